// `mlops train`: locked dataset -> split by task_id -> featurizer fitted on the training split ->
// trainer -> ONNX -> metrics from onnxruntime on the test split. Writes three files into `out`:
// model.onnx, features.json (the fitted featurizer state, needed to serve the model) and
// metrics.json. Registering them is a separate step (`mlops register`).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { sha256Hex } from '../util/hash.js';
import { schemaFile } from '../registry/paths.js';
import { loadDatasetRecords } from '../data/dataset.js';
import { splitRecords } from '../data/split.js';
import {
  featureNames as schemaFeatureNames,
  featurizeMany,
  fitFeaturizer,
  labelsOf,
  parseFeatureSchema,
  serializeFittedState,
  type FeatureSchema,
  type FittedState,
} from '../data/features.js';
import type { OutcomeRecord } from '../data/outcome.js';
import type { LabeledMatrix } from '../train/matrix.js';
import type { Metrics } from '../train/metrics.js';
import { metricsJsonText } from '../train/evaluate.js';
import type { ProgressCallback } from '../train/progress.js';
import { trainAndExport, type TrainerName } from '../train/train-and-export.js';

export interface TrainFromDatasetOptions {
  /** Registry root (holds datasets.lock, datasets/ and registry/schemas/). */
  dir: string;
  dataset: string;
  schemaVersion: string;
  /** Output folder for model.onnx, features.json and metrics.json. */
  out: string;
  trainer?: TrainerName;
  seed?: number;
  params?: Record<string, unknown>;
  onProgress?: ProgressCallback;
  /** Called as each phase ends, with a one-line description (the retrain job's step report). */
  onPhase?: (phase: 'merge' | 'features' | 'train' | 'evaluate', detail: string) => void;
  /** For trainer "external". */
  external?: { command: string; timeoutMs?: number; onOutput?: (line: string, stream: 'stdout' | 'stderr') => void };
}

export interface TrainFromDatasetResult {
  files: { model: string; features: string; metrics: string };
  trainer: TrainerName;
  params: Record<string, unknown>;
  seed: number;
  metrics: Metrics;
  trainerPredictionsMaxDiff: number | null;
  dataset: { name: string; sha256: string; rows: number; shards: number };
  schema: { version: string; sha256: string };
  splits: { train: number; validation: number; test: number };
  featureNames: string[];
  summary: Record<string, unknown>;
  /** SHA-256 and size of the written model.onnx (what the manifest records). */
  artifact: { sha256: string; bytes: number };
  /** The test split's records, for scoring other versions on the same rows without a second load. */
  testRecords: OutcomeRecord[];
}

export async function trainFromDataset(opts: TrainFromDatasetOptions): Promise<TrainFromDatasetResult> {
  const { dir, dataset, schemaVersion, out } = opts;
  const trainer = opts.trainer ?? 'gbdt';
  const seed = opts.seed ?? 42;
  const { schema, sha256: schemaSha } = await readFeatureSchema(dir, schemaVersion);
  const data = await loadDatasetRecords({ dir, name: dataset });
  opts.onPhase?.('merge', `${data.rows} rows in ${data.shards} shard(s), sha256 ${data.sha256.slice(0, 16)}…`);
  const parts = splitRecords(data.records);
  const state = fitFeaturizer(schema, parts.train, { trainSplitOnly: false });
  const names = schemaFeatureNames(schema, state);
  const matrices = {
    train: toMatrix(schema, state, parts.train),
    valid: toMatrix(schema, state, parts.validation),
    test: toMatrix(schema, state, parts.test),
  };
  opts.onPhase?.('features', `${names.length} features (${schemaVersion}); split train ${matrices.train.n} / validation ${matrices.valid.n} / test ${matrices.test.n}`);

  let workDir: string | null = null;
  try {
    if (trainer === 'external') workDir = await mkdtemp(join(tmpdir(), 'mlops-external-'));
    const r = await trainAndExport({
      trainer,
      params: opts.params,
      seed,
      ...matrices,
      featureNames: names,
      schemaVersion,
      onProgress: opts.onProgress,
      onPhase: (phase) => opts.onPhase?.(phase, phase === 'train' ? `${trainer}${trainer === 'external' ? ` (${opts.external?.command ?? ''})` : Object.keys(opts.params ?? {}).length ? ` ${JSON.stringify(opts.params)}` : ' (default parameters)'} seed ${seed}` : `onnxruntime on the ${matrices.test.n} test rows`),
      metadata: { 'mlops.dataset': dataset, 'mlops.dataset_sha256': data.sha256 },
      external: opts.external && workDir ? { ...opts.external, workDir } : undefined,
    });
    const files = { model: join(out, 'model.onnx'), features: join(out, 'features.json'), metrics: join(out, 'metrics.json') };
    await writeFileAtomic(files.model, r.onnx);
    await writeFileAtomic(files.features, serializeFittedState(state));
    await writeFileAtomic(files.metrics, metricsJsonText(r.metrics));
    return {
      files,
      trainer,
      params: r.params,
      seed,
      metrics: r.metrics,
      trainerPredictionsMaxDiff: r.trainerPredictionsMaxDiff,
      dataset: { name: dataset, sha256: data.sha256, rows: data.rows, shards: data.shards },
      schema: { version: schemaVersion, sha256: schemaSha },
      splits: { train: matrices.train.n, validation: matrices.valid.n, test: matrices.test.n },
      featureNames: names,
      summary: r.summary,
      artifact: { sha256: sha256Hex(r.onnx), bytes: r.onnx.length },
      testRecords: parts.test,
    };
  } finally {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }
}

/** registry/schemas/<version>.yaml parsed, with the SHA-256 of its bytes. */
export async function readFeatureSchema(dir: string, schemaVersion: string): Promise<{ schema: FeatureSchema; sha256: string; path: string }> {
  const rel = schemaFile(schemaVersion);
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, rel));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MlopsError('SCHEMA_NOT_FOUND', `feature schema ${schemaVersion} not found (${rel})`, {
        hint: 'Pass --schema with a version that exists under registry/schemas/.',
      });
    }
    throw e;
  }
  return { schema: parseFeatureSchema(bytes.toString('utf8'), rel), sha256: sha256Hex(bytes), path: rel };
}

export function toMatrix(schema: FeatureSchema, state: FittedState, records: OutcomeRecord[]): LabeledMatrix {
  const m = featurizeMany(schema, state, records);
  return { ...m, y: labelsOf(schema, records) };
}
