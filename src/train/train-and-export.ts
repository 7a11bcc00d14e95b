// The one call the retrain job and `mlops train` make: check the splits, fit the chosen trainer,
// write ONNX, and score the test split with onnxruntime. For the built-in trainers it also checks
// that onnxruntime reproduces the trainer's own probabilities on every test row.
import { MlopsError } from '../errors.js';
import type { LabeledMatrix } from './matrix.js';
import { checkSplit, checkTrainingData } from './matrix.js';
import { trainGbdt, predictGbdt, resolveGbdtParams, type GbdtModel } from './gbdt.js';
import { trainLogistic, predictLogistic, resolveLogisticParams, type LogisticModel } from './logistic.js';
import { exportOnnx } from './onnx-export.js';
import { evaluateOnnx } from './evaluate.js';
import { runExternalTrainer } from './external.js';
import type { Metrics } from './metrics.js';
import type { ProgressCallback } from './progress.js';

export type TrainerName = 'gbdt' | 'logistic' | 'external';
export const TRAINERS: readonly TrainerName[] = ['gbdt', 'logistic', 'external'];

/** Largest difference allowed between onnxruntime's and the trainer's probability on any row. */
export const MAX_PREDICTION_DIFF = 1e-5;

export interface ExternalTrainerConfig {
  command: string;
  /** Where the split files and the output go (the caller owns and removes it). */
  workDir: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface TrainAndExportOptions {
  trainer: TrainerName;
  params?: Record<string, unknown>;
  seed?: number;
  train: LabeledMatrix;
  valid: LabeledMatrix;
  test: LabeledMatrix;
  featureNames: readonly string[];
  schemaVersion: string;
  onProgress?: ProgressCallback;
  /** Required for trainer "external". */
  external?: ExternalTrainerConfig;
  /** Called when training (with export) and then evaluation end, for per-step timings. */
  onPhase?: (phase: 'train' | 'evaluate') => void;
  /** Extra ONNX metadata_props (built-in trainers), e.g. dataset name and hash. */
  metadata?: Record<string, string>;
  graphName?: string;
  toolVersion?: string;
}

export interface TrainAndExportResult {
  trainer: TrainerName;
  onnx: Uint8Array;
  /** Test-split metrics computed by onnxruntime on the exported model. */
  metrics: Metrics;
  /** Largest |onnxruntime - trainer| probability over the test rows (null for external models). */
  trainerPredictionsMaxDiff: number | null;
  /** Parameters with defaults filled in (what the manifest records). */
  params: Record<string, unknown>;
  seed: number;
  /** Trainer-specific facts: rounds and kept trees, Newton iterations, external metrics. */
  summary: Record<string, unknown>;
}

export async function trainAndExport(opts: TrainAndExportOptions): Promise<TrainAndExportResult> {
  const { trainer, train, valid, test, featureNames, schemaVersion, onProgress } = opts;
  const seed = opts.seed ?? 0;
  if (!TRAINERS.includes(trainer)) {
    throw new MlopsError('TRAINER_UNKNOWN', `Unknown trainer "${String(trainer)}"`, {
      hint: `Use one of: ${TRAINERS.join(', ')}`,
    });
  }
  checkTrainingData(train, featureNames);
  if (train.f !== featureNames.length) {
    throw new MlopsError(
      'ONNX_CONTRACT_MISMATCH',
      `The training matrix has ${train.f} features but the schema names ${featureNames.length}`,
      { hint: 'Featurize with the same schema whose feature names are passed' },
    );
  }
  checkSplit(valid, 'validation', train.f, featureNames);
  checkSplit(test, 'test', train.f, featureNames);
  if (test.n === 0) {
    throw new MlopsError('TRAINING_DATA_EMPTY', 'The test split has no rows, so the model cannot be evaluated', {
      hint: 'Lock more outcomes: about 10% of the task ids land in the test split',
    });
  }

  if (trainer === 'external') {
    if (!opts.external) {
      throw new MlopsError('CONFIG_INVALID', 'Trainer "external" needs a command', {
        hint: 'Set train.external.command in mlops.config.json',
      });
    }
    // The external trainer's own scoring of the test split is not separable from its run.
    const r = await runExternalTrainer({
      command: opts.external.command,
      workDir: opts.external.workDir,
      splits: { train, valid, test },
      featureNames,
      schemaVersion,
      seed,
      timeoutMs: opts.external.timeoutMs,
      env: opts.external.env,
      onOutput: opts.external.onOutput,
    });
    opts.onPhase?.('train');
    opts.onPhase?.('evaluate');
    return {
      trainer,
      onnx: r.onnx,
      metrics: r.metrics,
      trainerPredictionsMaxDiff: null,
      params: opts.params ?? {},
      seed,
      summary: { reported_metrics: r.reportedMetrics, duration_ms: r.durationMs },
    };
  }

  let model: GbdtModel | LogisticModel;
  let own: Float64Array;
  let summary: Record<string, unknown>;
  if (trainer === 'gbdt') {
    const params = resolveGbdtParams(opts.params);
    const m = trainGbdt({ train, valid, params, seed, featureNames, onProgress });
    model = m;
    own = predictGbdt(m, test);
    summary = { rounds: m.rounds, trees: m.trees.length };
  } else {
    const params = resolveLogisticParams(opts.params);
    const m = trainLogistic({ train, valid, params, seed, featureNames, onProgress });
    model = m;
    own = predictLogistic(m, test);
    summary = { iterations: m.iterations, converged: m.converged };
  }
  const onnx = exportOnnx(model, {
    featureNames,
    schemaVersion,
    seed,
    metadata: opts.metadata,
    graphName: opts.graphName,
    toolVersion: opts.toolVersion,
  });
  opts.onPhase?.('train');
  const { metrics, probabilities } = await evaluateOnnx({ model: onnx, data: test, featureNames });
  opts.onPhase?.('evaluate');
  let maxDiff = 0;
  for (let i = 0; i < test.n; i++) maxDiff = Math.max(maxDiff, Math.abs(probabilities[i] - own[i]));
  if (!(maxDiff <= MAX_PREDICTION_DIFF)) {
    throw new MlopsError(
      'INTERNAL',
      `The exported ${trainer} model disagrees with the trainer by ${maxDiff} on the test split (allowed ${MAX_PREDICTION_DIFF})`,
      { hint: 'This is a bug in the ONNX export; please report it with the dataset and params', data: { maxDiff } },
    );
  }
  return {
    trainer,
    onnx,
    metrics,
    trainerPredictionsMaxDiff: maxDiff,
    params: { ...model.params },
    seed,
    summary,
  };
}
