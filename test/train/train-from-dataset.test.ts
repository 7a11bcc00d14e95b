import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectOutcomes } from '../../src/app/data-collect.js';
import { trainFromDataset } from '../../src/app/train.js';
import { synthOutcomes } from '../../src/data/synth.js';
import { starterFeatureSchema, parseFittedState } from '../../src/data/features.js';
import { readInputContract } from '../../src/train/onnx-model.js';
import { sha256Hex } from '../../src/util/hash.js';
import { tempDir } from '../helpers/gitdir.js';

async function registryWithDataset(rows: number): Promise<string> {
  const dir = tempDir();
  const records = synthOutcomes({ seed: 5, rows, start: '2026-10-01T00:00:00Z', end: '2026-11-20T00:00:00Z' });
  mkdirSync(join(dir, '.mlops', 'outcomes'), { recursive: true });
  writeFileSync(join(dir, '.mlops', 'outcomes', 'a.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  await collectOutcomes({ dir, now: new Date('2026-11-22T02:00:00Z') });
  mkdirSync(join(dir, 'registry', 'schemas'), { recursive: true });
  writeFileSync(join(dir, 'registry', 'schemas', 'schema_v1.0.yaml'), starterFeatureSchema('schema_v1.0'));
  return dir;
}

describe('trainFromDataset', () => {
  it('trains on a locked dataset and writes model.onnx, features.json and metrics.json, reproducibly', async () => {
    const dir = await registryWithDataset(4000);
    const opts = { dir, dataset: 'backlink-outcomes', schemaVersion: 'schema_v1.0', trainer: 'gbdt' as const, seed: 42, params: { trees: 40 } };
    const a = await trainFromDataset({ ...opts, out: join(dir, 'out-a') });
    const b = await trainFromDataset({ ...opts, out: join(dir, 'out-b') });
    const model = readFileSync(a.files.model);
    expect(model.equals(readFileSync(b.files.model))).toBe(true);
    expect(a.artifact).toEqual({ sha256: sha256Hex(model), bytes: model.length });
    expect(a.metrics.auc!).toBeGreaterThan(0.6);
    expect(a.trainerPredictionsMaxDiff!).toBeLessThanOrEqual(1e-5);
    expect(a.splits.train + a.splits.validation + a.splits.test).toBe(4000);
    expect(a.dataset).toMatchObject({ name: 'backlink-outcomes', rows: 4000, shards: 1 });
    const contract = readInputContract(model);
    expect(contract.featureNames).toEqual(a.featureNames);
    expect(contract.metadata['mlops.dataset_sha256']).toBe(a.dataset.sha256);
    const state = parseFittedState(readFileSync(a.files.features, 'utf8'));
    expect(state.names).toEqual(a.featureNames);
    const metrics = JSON.parse(readFileSync(a.files.metrics, 'utf8'));
    expect(metrics.rows).toBe(a.splits.test);
    expect(metrics.auc).toBe(a.metrics.auc);
  });

  it('logistic on the same data, and a clear error for a missing schema', async () => {
    const dir = await registryWithDataset(2000);
    const r = await trainFromDataset({ dir, dataset: 'backlink-outcomes', schemaVersion: 'schema_v1.0', out: join(dir, 'out'), trainer: 'logistic' });
    expect(r.metrics.auc!).toBeGreaterThan(0.55);
    await expect(trainFromDataset({ dir, dataset: 'backlink-outcomes', schemaVersion: 'schema_v9', out: join(dir, 'x') })).rejects.toMatchObject({
      code: 'SCHEMA_NOT_FOUND',
    });
    await expect(trainFromDataset({ dir, dataset: 'nope', schemaVersion: 'schema_v1.0', out: join(dir, 'x') })).rejects.toMatchObject({
      code: 'DATASET_NOT_FOUND',
    });
  });
});
