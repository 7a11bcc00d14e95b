import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExternalTrainer, formatFloat32, writeSplitCsv } from '../../src/train/external.js';
import { trainLogistic } from '../../src/train/logistic.js';
import { exportOnnx } from '../../src/train/onnx-export.js';
import { evaluateOnnx } from '../../src/train/evaluate.js';
import { linearData, names, split } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const splits = split(linearData(2000, 31, 4));
const featureNames = names(4);

let dir: string;
let goodModel: string;
let narrowModel: string;
let copier: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-external-'));
  goodModel = join(dir, 'good.onnx');
  narrowModel = join(dir, 'narrow.onnx');
  const model = trainLogistic({ train: splits.train });
  writeFileSync(goodModel, exportOnnx(model, { featureNames, schemaVersion: 'schema_v1.0' }));
  const narrow = trainLogistic({ train: linearData(500, 3, 3) });
  writeFileSync(narrowModel, exportOnnx(narrow, { featureNames: featureNames.slice(0, 3), schemaVersion: 'schema_v1.0' }));
  // A stand-in trainer: checks the documented layout and environment, then writes a prepared model.
  copier = join(dir, 'copier.mjs');
  writeFileSync(
    copier,
    `import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
const env = process.env;
const features = JSON.parse(env.MLOPS_FEATURES);
const meta = JSON.parse(readFileSync(env.MLOPS_META, 'utf8'));
for (const split of ['TRAIN', 'VALID', 'TEST']) {
  const lines = readFileSync(env['MLOPS_' + split + '_FILE'], 'utf8').trimEnd().split('\\n');
  if (lines[0] !== [...features, 'label'].join(',')) { console.error('bad header ' + lines[0]); process.exit(4); }
  if (lines.length - 1 !== meta.splits[split.toLowerCase()].rows) { console.error('bad row count'); process.exit(5); }
}
if (meta.n_features !== Number(env.MLOPS_N_FEATURES) || env.MLOPS_SEED !== '11' || env.MLOPS_SCHEMA_VERSION !== 'schema_v1.0') process.exit(6);
console.log('training on ' + meta.splits.train.rows + ' rows');
copyFileSync(env.MODEL_SOURCE, env.MLOPS_OUT_DIR + '/model.onnx');
writeFileSync(env.MLOPS_OUT_DIR + '/metrics.json', JSON.stringify({ auc: 0.999, log_loss: 0.01 }));
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Alive and not a zombie waiting to be reaped by whoever adopted it. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  const state = readFileSync(stat, 'utf8').replace(/^.*\) /s, '')[0];
  return state !== 'Z' && state !== 'X';
}

function run(command: string, extra: Partial<Parameters<typeof runExternalTrainer>[0]> = {}) {
  return runExternalTrainer({
    command,
    workDir: join(dir, 'work'),
    splits,
    featureNames,
    schemaVersion: 'schema_v1.0',
    seed: 11,
    timeoutMs: 30_000,
    ...extra,
  });
}

describe('runExternalTrainer', () => {
  it('hands over the split files, then re-evaluates the model rather than trusting its metrics', async () => {
    const lines: string[] = [];
    const r = await run(`node ${copier}`, { env: { MODEL_SOURCE: goodModel }, onOutput: (l) => lines.push(l) });
    expect(lines).toContain(`training on ${splits.train.n} rows`);
    expect(r.reportedMetrics).toEqual({ auc: 0.999, log_loss: 0.01 });
    const own = await evaluateOnnx({ model: goodModel, data: splits.test });
    expect(r.metrics).toEqual(own.metrics);
    expect(r.metrics.auc).not.toBe(0.999);
    expect(Buffer.from(r.onnx).equals(readFileSync(goodModel))).toBe(true);
  });

  it('fails with TRAINER_FAILED and the end of stderr on a non-zero exit', async () => {
    await expect(run('echo "starting" >&2; echo "ValueError: bad input" >&2; exit 3')).rejects.toMatchObject({
      code: 'TRAINER_FAILED',
      message: expect.stringContaining('ValueError: bad input'),
      data: expect.objectContaining({ exitCode: 3 }),
    });
  });

  it('stops a command that runs past its timeout, with its whole process group', async () => {
    const pidFile = join(dir, 'child.pid');
    await expect(run(`sleep 60 & echo $! > ${pidFile}; wait`, { timeoutMs: 500, killGraceMs: 200 })).rejects.toMatchObject({
      code: 'TRAINER_TIMEOUT',
    });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(isRunning(pid)).toBe(false);
  });

  it('fails with TRAINER_FAILED when the command writes nothing', async () => {
    await expect(run('true')).rejects.toMatchObject({ code: 'TRAINER_FAILED', message: expect.stringContaining('model.onnx and metrics.json') });
    await expect(run('cp "$MODEL_SOURCE" "$MLOPS_OUT_DIR/model.onnx"', { env: { MODEL_SOURCE: goodModel } })).rejects.toMatchObject({
      code: 'TRAINER_FAILED',
      message: expect.stringContaining('metrics.json'),
    });
    await expect(run('cp "$MODEL_SOURCE" "$MLOPS_OUT_DIR/model.onnx"; echo "[1,2]" > "$MLOPS_OUT_DIR/metrics.json"', { env: { MODEL_SOURCE: goodModel } })).rejects.toMatchObject({
      code: 'TRAINER_FAILED',
    });
  });

  it('never accepts a model left by an earlier run', async () => {
    await run(`node ${copier}`, { env: { MODEL_SOURCE: goodModel } });
    await expect(run('true')).rejects.toMatchObject({ code: 'TRAINER_FAILED' });
  });

  it('rejects a model whose input does not match the features, and a corrupted one', async () => {
    await expect(run(`node ${copier}`, { env: { MODEL_SOURCE: narrowModel } })).rejects.toMatchObject({ code: 'ONNX_CONTRACT_MISMATCH' });
    await expect(run('head -c 100 "$MODEL_SOURCE" > "$MLOPS_OUT_DIR/model.onnx"; echo "{}" > "$MLOPS_OUT_DIR/metrics.json"', { env: { MODEL_SOURCE: goodModel } })).rejects.toMatchObject({
      code: 'ONNX_INVALID',
    });
  });

  const hasOnnx = existsSync(PYTHON) && (() => {
    try {
      execFileSync(PYTHON, ['-c', 'import onnx, numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasOnnx) console.warn('skipped: the Python external trainer test needs /usr/bin/python3 with onnx and numpy');
  it.skipIf(!hasOnnx)('runs a Python trainer that reads the CSVs and writes its own ONNX', async () => {
    const script = join(dir, 'train.py');
    writeFileSync(script, PY_TRAINER);
    const r = await run(`${PYTHON} ${script}`);
    expect(r.metrics.auc!).toBeGreaterThan(0.8);
    expect(r.reportedMetrics.auc).toBeCloseTo(r.metrics.auc!, 3);
  });
});

describe('split files', () => {
  it('writes float32 values that read back exactly', () => {
    for (const v of [0, 1, -3, 0.1, 1 / 3, 1e-30, 3.4e38, -2.5e-7, Math.PI]) {
      const f = Math.fround(v);
      expect(Math.fround(Number(formatFloat32(f)))).toBe(f);
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(-0)).toBe('0');
  });

  it('quotes header names that need it', async () => {
    const path = join(dir, 'q.csv');
    await writeSplitCsv(path, { X: Float32Array.from([1.5, 2]), n: 1, f: 2, y: Uint8Array.from([1]) }, ['a,b', 'say "hi"']);
    expect(readFileSync(path, 'utf8')).toBe('"a,b","say ""hi""",label\n1.5,2,1\n');
  });
});

// Logistic regression by Newton's method in numpy, written as MatMul -> Add -> Sigmoid.
const PY_TRAINER = String.raw`
import json, os
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

def load(path):
    d = np.loadtxt(path, delimiter=',', skiprows=1, dtype=np.float64, ndmin=2)
    return d[:, :-1], d[:, -1]

X, y = load(os.environ['MLOPS_TRAIN_FILE'])
Xt, yt = load(os.environ['MLOPS_TEST_FILE'])
f = int(os.environ['MLOPS_N_FEATURES'])
A = np.hstack([X, np.ones((len(X), 1))])
w = np.zeros(f + 1)
for _ in range(25):
    p = 1 / (1 + np.exp(-A @ w))
    H = A.T @ (A * (p * (1 - p))[:, None]) + 1e-6 * np.eye(f + 1)
    w -= np.linalg.solve(H, A.T @ (p - y))
W = numpy_helper.from_array(w[:f].reshape(f, 1).astype(np.float32), 'W')
B = numpy_helper.from_array(w[f:].astype(np.float32), 'B')
graph = helper.make_graph(
    [helper.make_node('MatMul', ['features', 'W'], ['z']), helper.make_node('Add', ['z', 'B'], ['logit']),
     helper.make_node('Sigmoid', ['logit'], ['probability'])],
    'external', [helper.make_tensor_value_info('features', TensorProto.FLOAT, ['N', f])],
    [helper.make_tensor_value_info('probability', TensorProto.FLOAT, ['N', 1])], [W, B])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 15)])
model.ir_version = 8
onnx.save(model, os.path.join(os.environ['MLOPS_OUT_DIR'], 'model.onnx'))
pt = 1 / (1 + np.exp(-(np.hstack([Xt, np.ones((len(Xt), 1))]) @ w)))
pos, neg = pt[yt == 1], pt[yt == 0]
auc = float(((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg)))
json.dump({'auc': auc}, open(os.path.join(os.environ['MLOPS_OUT_DIR'], 'metrics.json'), 'w'))
`;
