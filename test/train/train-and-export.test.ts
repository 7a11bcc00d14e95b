import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainAndExport } from '../../src/train/train-and-export.js';
import { readInputContract } from '../../src/train/onnx-model.js';
import type { TrainProgress } from '../../src/train/progress.js';
import type { LabeledMatrix } from '../../src/train/matrix.js';
import { linearData, names, split, xorData } from './helpers.js';

const xor = split(xorData(4000, 41, 4));
const featureNames = names(4);
const base = { seed: 42, featureNames, schemaVersion: 'schema_v1.0', ...xor };

describe('trainAndExport', () => {
  it('gbdt: returns ONNX bytes, onnxruntime test metrics, resolved params and the trainer/runtime agreement', async () => {
    const progress: TrainProgress[] = [];
    const r = await trainAndExport({ ...base, trainer: 'gbdt', params: { trees: 30, depth: 3 }, onProgress: (p) => progress.push(p) });
    expect(r.metrics.rows).toBe(xor.test.n);
    expect(r.metrics.auc!).toBeGreaterThan(0.85);
    expect(r.trainerPredictionsMaxDiff!).toBeLessThanOrEqual(1e-5);
    expect(r.params).toMatchObject({ trees: 30, depth: 3, learning_rate: 0.1, max_bins: 255, min_samples_leaf: 20 });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.iteration).toBe(r.summary.rounds);
    expect(readInputContract(r.onnx)).toMatchObject({ nFeatures: 4, featureNames, trainer: 'gbdt' });
  });

  it('logistic: same contract; no signal in XOR, a clear one in linear data', async () => {
    const r = await trainAndExport({ ...base, trainer: 'logistic' });
    expect(r.metrics.auc!).toBeLessThan(0.6);
    expect(r.trainerPredictionsMaxDiff!).toBeLessThanOrEqual(1e-5);
    expect(r.params).toEqual({ l2: 1, max_iter: 100, tol: 1e-6 });
    const lin = split(linearData(4000, 43, 4));
    const r2 = await trainAndExport({ ...base, ...lin, trainer: 'logistic' });
    expect(r2.metrics.auc!).toBeGreaterThan(0.8);
  });

  it('external: runs the command and scores its model itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-tae-'));
    try {
      const { exportOnnx } = await import('../../src/train/onnx-export.js');
      const { trainLogistic } = await import('../../src/train/logistic.js');
      const { writeFileSync } = await import('node:fs');
      const model = join(dir, 'm.onnx');
      writeFileSync(model, exportOnnx(trainLogistic({ train: xor.train }), { featureNames, schemaVersion: 'schema_v1.0' }));
      const r = await trainAndExport({
        ...base,
        trainer: 'external',
        external: { command: `cp ${model} "$MLOPS_OUT_DIR/model.onnx" && echo '{"auc":1}' > "$MLOPS_OUT_DIR/metrics.json"`, workDir: join(dir, 'work') },
      });
      expect(r.trainerPredictionsMaxDiff).toBeNull();
      expect(r.metrics.auc).toBeLessThan(0.6);
      expect(r.summary.reported_metrics).toEqual({ auc: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('bad input, each a clear error', () => {
    const empty: LabeledMatrix = { X: new Float32Array(0), n: 0, f: 4, y: new Uint8Array(0) };
    it('empty training set', async () => {
      await expect(trainAndExport({ ...base, trainer: 'gbdt', train: empty })).rejects.toMatchObject({
        code: 'TRAINING_DATA_EMPTY',
        hint: expect.any(String),
      });
    });

    it('single-class training set', async () => {
      const one = { ...xor.train, y: new Uint8Array(xor.train.n).fill(1) };
      for (const trainer of ['gbdt', 'logistic'] as const) {
        await expect(trainAndExport({ ...base, trainer, train: one })).rejects.toMatchObject({
          code: 'TRAINING_DATA_SINGLE_CLASS',
          message: expect.stringContaining('all labelled success'),
        });
      }
    });

    it('NaN or Infinity, naming the row and the feature', async () => {
      const bad = { ...xor.train, X: xor.train.X.slice() };
      bad.X[17 * 4 + 2] = NaN;
      await expect(trainAndExport({ ...base, trainer: 'logistic', train: bad })).rejects.toMatchObject({
        code: 'TRAINING_DATA_NOT_FINITE',
        message: expect.stringMatching(/row 17, feature 2 \(feature_2\)/),
        data: expect.objectContaining({ row: 17, column: 2, feature: 'feature_2' }),
      });
      const inf = { ...xor.test, X: xor.test.X.slice() };
      inf.X[3] = Infinity;
      await expect(trainAndExport({ ...base, trainer: 'gbdt', test: inf })).rejects.toMatchObject({
        code: 'TRAINING_DATA_NOT_FINITE',
        message: expect.stringContaining('test split has Infinity at row 0, feature 3'),
      });
    });

    it('feature count that does not match the schema or the other splits', async () => {
      await expect(trainAndExport({ ...base, trainer: 'gbdt', featureNames: featureNames.slice(1) })).rejects.toMatchObject({
        code: 'ONNX_CONTRACT_MISMATCH',
      });
      const narrow = split(xorData(500, 3, 3)).test;
      await expect(trainAndExport({ ...base, trainer: 'gbdt', test: narrow })).rejects.toMatchObject({ code: 'ONNX_CONTRACT_MISMATCH' });
    });

    it('empty test split, unknown trainer, unknown parameter, missing external command', async () => {
      await expect(trainAndExport({ ...base, trainer: 'gbdt', test: empty })).rejects.toMatchObject({ code: 'TRAINING_DATA_EMPTY' });
      await expect(trainAndExport({ ...base, trainer: 'xgboost' as never })).rejects.toMatchObject({ code: 'TRAINER_UNKNOWN' });
      await expect(trainAndExport({ ...base, trainer: 'gbdt', params: { n_estimators: 10 } })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        hint: expect.stringContaining('trees'),
      });
      await expect(trainAndExport({ ...base, trainer: 'external' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    });

    it('labels other than 0 and 1', async () => {
      const bad = { ...xor.train, y: xor.train.y.slice() };
      bad.y[5] = 2;
      await expect(trainAndExport({ ...base, trainer: 'gbdt', train: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
});
