// `mlops evaluate M@V`: scores a registered version on the test split of a locked dataset with
// onnxruntime, featurized with that version's own schema and fitted state (features.json), and
// scores the production version on the very same test records for comparison.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { versionDir } from '../registry/paths.js';
import { RegistryStore } from './registry-store.js';
import { loadDatasetRecords } from '../data/dataset.js';
import { splitRecords } from '../data/split.js';
import { featureNames as schemaFeatureNames, parseFittedState } from '../data/features.js';
import type { OutcomeRecord } from '../data/outcome.js';
import type { ManifestDoc } from '../registry/types.js';
import { evaluateOnnx } from '../train/evaluate.js';
import type { Metrics } from '../train/metrics.js';
import { readFeatureSchema, toMatrix } from './train.js';

export interface EvaluateVersionOptions {
  dir: string;
  model: string;
  version: string;
  /** Defaults to the dataset the version was trained on. */
  dataset?: string;
  /** Also score the production version (default true; skipped when it is the same version). */
  compareProduction?: boolean;
}

export interface VersionEvaluation {
  version: string;
  metrics: Metrics;
}

export interface EvaluateVersionResult {
  model: string;
  dataset: { name: string; sha256: string; testRows: number };
  target: VersionEvaluation;
  production: VersionEvaluation | null;
}

export async function evaluateVersion(opts: EvaluateVersionOptions): Promise<EvaluateVersionResult> {
  const store = new RegistryStore(opts.dir);
  const manifest = await store.readManifest(opts.model, opts.version);
  const datasetName = opts.dataset ?? manifest.dataset.name;
  const data = await loadDatasetRecords({ dir: opts.dir, name: datasetName });
  const test = splitRecords(data.records).test;
  if (test.length === 0) {
    throw new MlopsError('TRAINING_DATA_EMPTY', `The test split of ${datasetName} has no rows`, {
      hint: 'Lock more outcomes: about 10% of the task ids land in the test split',
    });
  }
  const target = { version: opts.version, metrics: await scoreVersion(opts.dir, opts.model, manifest, test) };
  let production: VersionEvaluation | null = null;
  if (opts.compareProduction ?? true) {
    const prod = (await store.readDeployments(opts.model)).production;
    if (prod && prod !== opts.version) {
      const pm = await store.readManifest(opts.model, prod);
      production = { version: prod, metrics: await scoreVersion(opts.dir, opts.model, pm, test) };
    }
  }
  return { model: opts.model, dataset: { name: datasetName, sha256: data.sha256, testRows: test.length }, target, production };
}

/** One version's metrics on records, featurized with its schema and features.json. */
export async function scoreVersion(dir: string, model: string, manifest: ManifestDoc, records: OutcomeRecord[]): Promise<Metrics> {
  const folder = join(dir, versionDir(model, manifest.version));
  const { schema } = await readFeatureSchema(dir, manifest.schema.version);
  const statePath = join(folder, 'features.json');
  let stateText: string;
  try {
    stateText = await readFile(statePath, 'utf8');
  } catch {
    throw new MlopsError('ARTIFACT_NOT_FOUND', `${model}@${manifest.version} has no features.json beside its model`, {
      hint: 'Versions trained by `mlops train` ship the fitted featurizer state as features.json; register it with the model',
    });
  }
  const state = parseFittedState(stateText, schema);
  const data = toMatrix(schema, state, records);
  const { metrics } = await evaluateOnnx({
    model: join(folder, manifest.artifact.path),
    data,
    featureNames: schemaFeatureNames(schema, state),
    label: `${model}@${manifest.version}`,
  });
  return metrics;
}
