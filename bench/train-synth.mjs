// Both trainers against sklearn on the synthetic backlink outcomes (src/data/synth.ts): records
// featurized with the starter schema (featurizer fitted on the training split), split by task_id
// as SPEC 6.2 says, the same matrices handed to sklearn.
//   npm run build && node bench/train-synth.mjs [rows]
import { join } from 'node:path';
import { synthOutcomes } from '../dist/data/synth.js';
import { featureNames, featurizeMany, fitFeaturizer, labelsOf, parseFeatureSchema, starterFeatureSchema } from '../dist/data/features.js';
import { splitRecords } from '../dist/data/split.js';
import { trainGbdt } from '../dist/train/gbdt.js';
import { trainLogistic } from '../dist/train/logistic.js';
import { exportOnnx } from '../dist/train/onnx-export.js';
import { evaluateOnnx } from '../dist/train/evaluate.js';
import { load, report, runSklearn, timed, workDir, writeForPython } from './train-common.mjs';

const rows = Number(process.argv[2] ?? 300_000);
const records = synthOutcomes({ seed: 11, rows, start: '2026-06-01T00:00:00Z', end: '2026-11-20T00:00:00Z' });
const schema = parseFeatureSchema(starterFeatureSchema('schema_v1.0'));
const parts = splitRecords(records);
const state = fitFeaturizer(schema, parts.train, { trainSplitOnly: false });
const names = featureNames(schema, state);
const mat = (rs) => ({ ...featurizeMany(schema, state, rs), y: labelsOf(schema, rs) });
const train = mat(parts.train);
const valid = mat(parts.validation);
const test = mat(parts.test);
const f = train.f;

// One matrix [train; valid; test] for the Python side.
const n = train.n + valid.n + test.n;
const X = new Float32Array(n * f);
const y = new Uint8Array(n);
let at = 0;
for (const m of [train, valid, test]) {
  X.set(m.X, at * f);
  y.set(m.y, at);
  at += m.n;
}
const split = { train: [0, train.n], valid: [train.n, train.n + valid.n], test: [train.n + valid.n, n] };
const dir = workDir();
const base = join(dir, 'synth');
writeForPython(base, { X, y, n, f }, split);
console.log(`synthetic backlink data: ${rows} outcomes, ${f} features (train ${train.n}, valid ${valid.n}, test ${test.n}), load average ${load()}`);

async function onnxMetrics(model) {
  const { metrics } = await evaluateOnnx({ model: exportOnnx(model, { featureNames: names, schemaVersion: 'schema_v1.0' }), data: test });
  return metrics;
}

const gbdtParams = { trees: 100, depth: 6, learning_rate: 0.1, max_bins: 255, min_samples_leaf: 20, l2: 0, early_stopping_rounds: 0 };
const g = timed(() => trainGbdt({ train, valid, params: gbdtParams, seed: 42 }));
const gm = await onnxMetrics(g.value);
report(
  'gbdt vs HistGradientBoostingClassifier (100 trees, depth 6)',
  { auc: gm.auc, log_loss: gm.log_loss, fit_s: g.wall, fit_cpu_s: g.cpu, iterations: g.value.trees.length },
  runSklearn(base, 'hgb', { max_iter: 100, max_depth: 6, max_leaf_nodes: null, learning_rate: 0.1, max_bins: 255, min_samples_leaf: 20, l2_regularization: 0, early_stopping: false, random_state: 42 }),
  { aucSlack: 0.005, timeGoal: 1 },
);

const l = timed(() => trainLogistic({ train, valid, params: { l2: 1 } }));
const lm = await onnxMetrics(l.value);
report(
  'logistic vs StandardScaler + LogisticRegression (C = 1)',
  { auc: lm.auc, log_loss: lm.log_loss, fit_s: l.wall, fit_cpu_s: l.cpu, iterations: l.value.iterations },
  runSklearn(base, 'lr-scaled', { C: 1.0, max_iter: 1000 }),
  { aucSlack: 0.002, timeGoal: 2 },
);
console.log(`  load average at the end ${load()}`);
