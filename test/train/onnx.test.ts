import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { trainGbdt, predictGbdt, type GbdtModel } from '../../src/train/gbdt.js';
import { trainLogistic, predictLogistic, type LogisticModel } from '../../src/train/logistic.js';
import { exportOnnx, META, ONNX_IR_VERSION } from '../../src/train/onnx-export.js';
import { loadOnnxModel, readInputContract } from '../../src/train/onnx-model.js';
import { evaluateOnnx } from '../../src/train/evaluate.js';
import { computeMetrics } from '../../src/train/metrics.js';
import { linearData, maxAbsDiff, names, split, xorData } from './helpers.js';

const { onnx } = onnxProto;
const PYTHON = '/usr/bin/python3';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-onnx-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = split(xorData(5000, 21, 6));
const f = data.train.f;
const featureNames = names(f);
const exportOpts = { featureNames, schemaVersion: 'schema_v1.0', seed: 7 };

function gbdt(seed = 7, params: Record<string, unknown> = { trees: 40, depth: 4 }): GbdtModel {
  return trainGbdt({ train: data.train, valid: data.valid, params, seed });
}
function logistic(): LogisticModel {
  return trainLogistic({ train: data.train, valid: data.valid });
}

/** Test rows plus rows on and next to every split threshold, where float32 decisions are tested hardest. */
function edgeRows(model: GbdtModel): { X: Float32Array; n: number; f: number } {
  const extra: number[] = [];
  for (const tree of model.trees.slice(0, 5)) {
    for (let k = 0; k < tree.feature.length; k++) {
      if (tree.feature[k] < 0) continue;
      const t = tree.threshold[k];
      for (const v of [t, nextUp(t), nextDown(t)]) {
        const row = Array.from(data.test.X.subarray(0, f));
        row[tree.feature[k]] = v;
        extra.push(...row);
      }
    }
  }
  const X = Float32Array.from([...data.test.X, ...extra]);
  return { X, n: X.length / f, f };
}

function nextUp(x: number): number {
  const b = new Float32Array([x]);
  const i = new Int32Array(b.buffer);
  i[0] += x >= 0 ? 1 : -1;
  return b[0];
}
function nextDown(x: number): number {
  const b = new Float32Array([x]);
  const i = new Int32Array(b.buffer);
  i[0] += x > 0 ? -1 : 1;
  return b[0];
}

describe('ONNX export', () => {
  it('gbdt: onnxruntime gives the trainer\'s probabilities within 1e-5 on every row, threshold edges included', async () => {
    const model = gbdt();
    const scorer = await loadOnnxModel(exportOnnx(model, exportOpts));
    try {
      const m = edgeRows(model);
      const got = await scorer.predict(m);
      expect(got.length).toBe(m.n);
      expect(maxAbsDiff(got, predictGbdt(model, m))).toBeLessThanOrEqual(1e-5);
    } finally {
      await scorer.close();
    }
  });

  it('logistic: onnxruntime gives the trainer\'s probabilities within 1e-5 on every row', async () => {
    const model = logistic();
    const scorer = await loadOnnxModel(exportOnnx(model, exportOpts));
    try {
      expect(maxAbsDiff(await scorer.predict(data.test), predictLogistic(model, data.test))).toBeLessThanOrEqual(1e-5);
    } finally {
      await scorer.close();
    }
  });

  it('writes the input contract into metadata_props and the graph', () => {
    const bytes = exportOnnx(gbdt(), { ...exportOpts, metadata: { 'mlops.dataset_sha256': 'ab'.repeat(32) } });
    const c = readInputContract(bytes);
    expect(c).toMatchObject({ input: 'features', output: 'probability', outputColumn: 0, nFeatures: f, featureNames, schemaVersion: 'schema_v1.0', trainer: 'gbdt' });
    expect(c.irVersion).toBe(ONNX_IR_VERSION);
    expect(c.opsets).toEqual({ 'ai.onnx': 15, 'ai.onnx.ml': 2 });
    expect(JSON.parse(c.metadata[META.params])).toMatchObject({ trees: 40, depth: 4, learning_rate: 0.1 });
    expect(c.metadata[META.seed]).toBe('7');
    expect(c.metadata[META.toolVersion]).toMatch(/^\d+\.\d+\.\d+/);
    expect(c.metadata['mlops.dataset_sha256']).toBe('ab'.repeat(32));
    const keys = onnx.ModelProto.decode(bytes).metadataProps.map((p) => p.key);
    expect(keys).toEqual([...keys].sort());
  });

  it('is byte-identical for the same data, params and seed; a different seed with subsampling differs', () => {
    const params = { trees: 20, depth: 4, subsample: 0.8 };
    const a = exportOnnx(gbdt(3, params), exportOpts);
    const b = exportOnnx(gbdt(3, params), exportOpts);
    const c = exportOnnx(gbdt(4, params), exportOpts);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    const l1 = exportOnnx(logistic(), exportOpts);
    const l2 = exportOnnx(logistic(), exportOpts);
    expect(Buffer.from(l1).equals(Buffer.from(l2))).toBe(true);
  });

  it('refuses feature names that do not match the model width', () => {
    expect(() => exportOnnx(logistic(), { ...exportOpts, featureNames: featureNames.slice(1) })).toThrow(
      expect.objectContaining({ code: 'ONNX_CONTRACT_MISMATCH' }),
    );
  });

  const hasOnnx = existsSync(PYTHON) && (() => {
    try {
      execFileSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasOnnx) console.warn('skipped: onnx.checker test needs /usr/bin/python3 with the onnx module (Debian python3-onnx)');
  it.skipIf(!hasOnnx)('passes onnx.checker.check_model(full_check=True) for both trainers', () => {
    for (const [name, model] of [['gbdt', gbdt()], ['logistic', logistic()]] as const) {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, exportOnnx(model, exportOpts));
      const out = execFileSync(PYTHON, ['-c', 'import sys, onnx; onnx.checker.check_model(sys.argv[1], full_check=True); print("ok")', path], {
        encoding: 'utf8',
      });
      expect(out.trim()).toBe('ok');
    }
  });
});

describe('loadOnnxModel', () => {
  it('rejects corrupted, truncated and empty files with ONNX_INVALID', async () => {
    const bytes = exportOnnx(gbdt(), exportOpts);
    const truncated = bytes.slice(0, Math.floor(bytes.length / 2));
    await expect(loadOnnxModel(truncated)).rejects.toMatchObject({ code: 'ONNX_INVALID' });
    const garbage = Uint8Array.from(bytes, (b, i) => (i % 7 === 0 ? b ^ 0xff : b));
    await expect(loadOnnxModel(garbage)).rejects.toMatchObject({ code: expect.stringMatching(/^ONNX_(INVALID|CONTRACT_MISMATCH)$/) });
    await expect(loadOnnxModel(new TextEncoder().encode('not a model at all'))).rejects.toMatchObject({ code: 'ONNX_INVALID' });
    await expect(loadOnnxModel(new Uint8Array(0))).rejects.toMatchObject({ code: 'ONNX_INVALID' });
    const path = join(dir, 'truncated.onnx');
    writeFileSync(path, truncated);
    await expect(loadOnnxModel(path)).rejects.toMatchObject({ code: 'ONNX_INVALID' });
    await expect(loadOnnxModel(join(dir, 'missing.onnx'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('checks the input contract against the expected features and the matrix width', async () => {
    const bytes = exportOnnx(logistic(), exportOpts);
    await expect(loadOnnxModel(bytes, { expectFeatureNames: featureNames.slice(1) })).rejects.toMatchObject({ code: 'ONNX_CONTRACT_MISMATCH' });
    const renamed = [...featureNames];
    renamed[2] = 'something_else';
    await expect(loadOnnxModel(bytes, { expectFeatureNames: renamed })).rejects.toMatchObject({ code: 'ONNX_CONTRACT_MISMATCH' });
    const scorer = await loadOnnxModel(bytes, { expectFeatureNames: featureNames });
    try {
      const narrow = linearData(10, 1, f - 1);
      await expect(scorer.predict(narrow)).rejects.toMatchObject({ code: 'ONNX_CONTRACT_MISMATCH' });
    } finally {
      await scorer.close();
    }
  });

  it('evaluateOnnx gives the metrics of the probabilities onnxruntime computed', async () => {
    const bytes = exportOnnx(gbdt(), exportOpts);
    const { metrics, probabilities } = await evaluateOnnx({ model: bytes, data: data.test, featureNames });
    expect(metrics).toEqual(computeMetrics(probabilities, data.test.y));
    expect(metrics.rows).toBe(data.test.n);
    expect(metrics.auc!).toBeGreaterThan(0.85);
  });

  it('scores in batches with the same result as one run', async () => {
    const scorer = await loadOnnxModel(exportOnnx(gbdt(), exportOpts));
    try {
      const whole = await scorer.predict(data.test);
      const batched = await scorer.predict(data.test, { batchSize: 7 });
      expect(Array.from(batched)).toEqual(Array.from(whole));
    } finally {
      await scorer.close();
    }
  });
});
