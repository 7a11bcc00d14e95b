// Evaluation of an ONNX model on a labelled split, always through onnxruntime: the runtime that
// serves the model is the one that measures it, and an external trainer's own numbers are never
// taken on trust. metrics.json is the flat metrics object with a fixed key order.
import { MlopsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { LabeledMatrix } from './matrix.js';
import { checkShape, checkFinite } from './matrix.js';
import { computeMetrics, metricsToJson, type Metrics } from './metrics.js';
import { loadOnnxModel, type OnnxScorer } from './onnx-model.js';

export interface EvaluateOnnxOptions {
  /** ONNX bytes, a path, or an already loaded scorer (left open). */
  model: Uint8Array | string | OnnxScorer;
  data: LabeledMatrix;
  /** When given, the model's input contract must match these names (count, and names if recorded). */
  featureNames?: readonly string[];
  label?: string;
  threshold?: number;
}

export interface Evaluation {
  metrics: Metrics;
  probabilities: Float32Array;
}

export async function evaluateOnnx({ model, data, featureNames, label, threshold }: EvaluateOnnxOptions): Promise<Evaluation> {
  checkShape(data, 'evaluation');
  if (data.n === 0) {
    throw new MlopsError('TRAINING_DATA_EMPTY', 'The evaluation split has no rows', {
      hint: 'Lock more outcomes: about 10% of the rows land in the test split',
    });
  }
  checkFinite(data, 'evaluation', featureNames);
  const owned = typeof model === 'string' || model instanceof Uint8Array;
  const scorer = owned ? await loadOnnxModel(model, { expectFeatureNames: featureNames, label }) : model;
  try {
    const probabilities = await scorer.predict(data);
    return { metrics: computeMetrics(probabilities, data.y, { threshold }), probabilities };
  } finally {
    if (owned) await scorer.close();
  }
}

/** metrics.json text: the metrics in METRIC_KEYS order (null for undefined ones), then any extras, 2-space indent, final newline. */
export function metricsJsonText(metrics: Metrics, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ ...metricsToJson(metrics), ...extra }, null, 2)}\n`;
}

export async function writeMetricsJson(path: string, metrics: Metrics, extra?: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, metricsJsonText(metrics, extra));
}
