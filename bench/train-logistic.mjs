// Benchmark of the logistic trainer against sklearn's LogisticRegression (lbfgs, C = 1) on the
// same 1,000,000 x 20 generated rows and the same split.
//   npm run build && node bench/train-logistic.mjs [rows]
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { trainLogistic } from '../dist/train/logistic.js';
import { exportOnnx } from '../dist/train/onnx-export.js';
import { evaluateOnnx } from '../dist/train/evaluate.js';
import { generate, splitIndex, slice } from './train-data.mjs';
import { load, report, runSklearn, timed, workDir, writeForPython } from './train-common.mjs';

const rows = Number(process.argv[2] ?? 1_000_000);
const data = generate(rows);
const split = splitIndex(rows);
const dir = workDir();
const base = join(dir, 'logistic');
writeForPython(base, data, split);
const train = slice(data, split.train);
const valid = slice(data, split.valid);
const test = slice(data, split.test);
console.log(`logistic benchmark: ${rows} x ${data.f} rows (train ${train.n}, test ${test.n}), load average ${load()}`);

const { value: model, wall: fit, cpu: fitCpu } = timed(() => trainLogistic({ train, valid, params: { l2: 1 } }));
const { metrics } = await evaluateOnnx({ model: exportOnnx(model, { featureNames: Array.from({ length: data.f }, (_, j) => `x${j}`), schemaVersion: 'bench' }), data: test });
const ours = { auc: metrics.auc, log_loss: metrics.log_loss, fit_s: fit, fit_cpu_s: fitCpu, iterations: model.iterations };
const peer = runSklearn(base, 'lr', { C: 1.0, max_iter: 100 });
report('logistic vs LogisticRegression', ours, peer, { aucSlack: 0.002, timeGoal: 2 });
console.log(`  load average at the end ${load()}`);
