// Benchmark of the gbdt trainer against sklearn's HistGradientBoostingClassifier on the same
// 1,000,000 x 20 generated rows and the same 80/10/10 split, at comparable settings (100 trees,
// depth 6, learning rate 0.1, 255 bins, 20 rows per leaf, no L2, no early stopping), plus the
// onnxruntime-node batched scoring throughput of the exported model.
//   npm run build && node bench/train-gbdt.mjs [rows]
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { trainGbdt, predictGbdt } from '../dist/train/gbdt.js';
import { exportOnnx } from '../dist/train/onnx-export.js';
import { loadOnnxModel } from '../dist/train/onnx-model.js';
import { computeMetrics } from '../dist/train/metrics.js';
import { generate, splitIndex, slice } from './train-data.mjs';
import { load, report, runSklearn, timed, workDir, writeForPython } from './train-common.mjs';

const rows = Number(process.argv[2] ?? 1_000_000);
const data = generate(rows);
const split = splitIndex(rows);
const dir = workDir();
const base = join(dir, 'gbdt');
writeForPython(base, data, split);
const train = slice(data, split.train);
const valid = slice(data, split.valid);
const test = slice(data, split.test);
console.log(`gbdt benchmark: ${rows} x ${data.f} rows (train ${train.n}, valid ${valid.n}, test ${test.n}), load average ${load()}`);

const params = { trees: 100, depth: 6, learning_rate: 0.1, max_bins: 255, min_samples_leaf: 20, l2: 0, early_stopping_rounds: 0 };
const { value: model, wall: fit, cpu: fitCpu } = timed(() => trainGbdt({ train, valid, params, seed: 42 }));
const ownProbs = predictGbdt(model, test);
const bytes = exportOnnx(model, { featureNames: Array.from({ length: data.f }, (_, j) => `x${j}`), schemaVersion: 'bench', seed: 42 });
const scorer = await loadOnnxModel(bytes);
const probs = await scorer.predict(test);
let maxDiff = 0;
for (let i = 0; i < test.n; i++) maxDiff = Math.max(maxDiff, Math.abs(probs[i] - ownProbs[i]));
const m = computeMetrics(probs, test.y);
const ours = { auc: m.auc, log_loss: m.log_loss, fit_s: fit, fit_cpu_s: fitCpu, iterations: model.trees.length };

const peer = runSklearn(base, 'hgb', {
  max_iter: 100,
  max_depth: 6,
  max_leaf_nodes: null,
  learning_rate: 0.1,
  max_bins: 255,
  min_samples_leaf: 20,
  l2_regularization: 0,
  early_stopping: false,
  random_state: 42,
});
report('gbdt vs HistGradientBoostingClassifier', ours, peer, { aucSlack: 0.005, timeGoal: 1 });
console.log(`  onnxruntime vs trainer probabilities: max |diff| ${maxDiff.toExponential(2)} over ${test.n} test rows`);
console.log(`  model.onnx ${bytes.length} bytes, ${model.trees.length} trees`);

// Scoring throughput: every row through onnxruntime-node in batches, best of three passes, with
// a thread per core and with one thread (loadOnnxModel's default, for bit-identical metrics).
// Rows per CPU-second is shown too: on a busy machine it is the steadier figure.
const all = { X: data.X, n: data.n, f: data.f };
const sklearnRate = test.n / peer.predict_s;
console.log(`  anchor: sklearn predict_proba on the ${test.n} test rows: ${Math.round(sklearnRate).toLocaleString('en-US')} rows/s`);
for (const threads of [availableParallelism(), 1]) {
  const s = await loadOnnxModel(bytes, { threads });
  const batchSize = 262_144;
  await s.predict(all, { batchSize });
  let best = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await s.predict(all, { batchSize });
    const c = process.cpuUsage(c0);
    best = Math.min(best, (performance.now() - t0) / 1000);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  const rate = data.n / best;
  console.log(
    `  scoring ${data.n} rows (batch ${batchSize}, ${threads} thread${threads > 1 ? 's' : ''}): ${best.toFixed(2)} s, ` +
      `${Math.round(rate).toLocaleString('en-US')} rows/s (target >= 500,000: x${(rate / 500_000).toFixed(2)}; vs sklearn x${(rate / sklearnRate).toFixed(2)}), ` +
      `${Math.round(data.n / cpu).toLocaleString('en-US')} rows per CPU-second`,
  );
  await s.close();
}
await scorer.close();
console.log(`  load average at the end ${load()}`);
