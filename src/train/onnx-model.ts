// Loads an ONNX model into onnxruntime-node and scores matrices with it. The file is decoded and
// its input contract read before the runtime sees it, so a corrupted or truncated file, a model
// with a different input shape, or one without a probability output is a clear error with a code.
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { MlopsError } from '../errors.js';
import type { Matrix } from './matrix.js';
import { META, ONNX_OUTPUT } from './onnx-export.js';

const { onnx } = onnxProto;

/** What a model expects and returns, read from its graph and metadata_props. */
export interface InputContract {
  /** Name of the one float input, [N, nFeatures]. */
  input: string;
  nFeatures: number;
  /** Output read for probabilities and the column taken from it (1 for a [N, 2] class-probability output). */
  output: string;
  outputColumn: number;
  /** From metadata (null when the model does not say, e.g. an external trainer's model). */
  featureNames: string[] | null;
  schemaVersion: string | null;
  trainer: string | null;
  metadata: Record<string, string>;
  irVersion: number;
  opsets: Record<string, number>;
}

export interface OnnxScorer {
  readonly inputContract: InputContract;
  /** P(success) per row, batched through onnxruntime. */
  predict(m: Matrix, options?: { batchSize?: number }): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface LoadOnnxOptions {
  /** When given, the model's input width (and feature names, if it records them) must match. */
  expectFeatureNames?: readonly string[];
  /**
   * Threads for one run (onnxruntime's intra-op pool). Default 1, so that scores, and the metrics
   * written from them, are the same bits on every machine: with several threads onnxruntime
   * scores a batch of a few rows by splitting the trees among the threads, and the sum then
   * depends on the thread count. Batch scoring of many rows gains from a thread per core (0.29 M
   * rows/s with one thread, 0.53 M with two, 100 trees of depth 6; bench/train-gbdt.mjs).
   */
  threads?: number;
  /** Shown in error messages instead of the path (e.g. "backlink-success@v1.3.0"). */
  label?: string;
}

const DEFAULT_BATCH = 65_536;

export async function loadOnnxModel(source: Uint8Array | string, options: LoadOnnxOptions = {}): Promise<OnnxScorer> {
  const label = options.label ?? (typeof source === 'string' ? source : 'the ONNX model');
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = await readFile(source);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new MlopsError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'ONNX_INVALID', `Cannot read ${label}: ${(e as Error).message}`, {
        hint: 'Check the model path',
        cause: e,
      });
    }
  } else {
    bytes = source;
  }
  const contract = readInputContract(bytes, label);
  if (options.expectFeatureNames) checkContract(contract, options.expectFeatureNames, label);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.threads ?? 1,
    });
  } catch (e) {
    throw new MlopsError('ONNX_INVALID', `onnxruntime cannot load ${label}: ${firstLine(e)}`, {
      hint: 'The file is not a valid ONNX model for onnxruntime; re-train or re-export it',
      cause: e,
    });
  }
  let closed = false;
  return {
    inputContract: contract,
    async predict(m: Matrix, { batchSize = DEFAULT_BATCH } = {}): Promise<Float32Array> {
      if (closed) throw new MlopsError('INVALID_ARGUMENT', `${label} is closed`, { hint: 'Load the model again' });
      if (m.f !== contract.nFeatures) {
        throw new MlopsError(
          'ONNX_CONTRACT_MISMATCH',
          `${label} takes ${contract.nFeatures} features per row, the matrix has ${m.f}`,
          { hint: 'Featurize with the schema (and fitted state) the model was trained with' },
        );
      }
      const out = new Float32Array(m.n);
      const width = contract.outputColumn === 0 ? 1 : 2;
      for (let s = 0; s < m.n; s += batchSize) {
        const rows = Math.min(batchSize, m.n - s);
        const x = new ort.Tensor('float32', m.X.subarray(s * m.f, (s + rows) * m.f), [rows, m.f]);
        let result: ort.InferenceSession.ReturnType;
        try {
          result = await session.run({ [contract.input]: x }, [contract.output]);
        } catch (e) {
          throw new MlopsError('ONNX_INVALID', `onnxruntime failed to score ${label}: ${firstLine(e)}`, {
            hint: 'The model loads but does not run on [N, f] float input; check its graph',
            cause: e,
          });
        }
        const t = result[contract.output];
        const data = t.data;
        if (!(data instanceof Float32Array) || data.length !== rows * width) {
          throw new MlopsError('ONNX_CONTRACT_MISMATCH', `${label} output ${contract.output} has ${t.type} ${JSON.stringify(t.dims)}, expected float [${rows}, ${width}]`, {
            hint: `The output must be float32 [N, 1] named ${ONNX_OUTPUT} (or [N, 2] class probabilities)`,
          });
        }
        if (width === 1) out.set(data, s);
        else for (let r = 0; r < rows; r++) out[s + r] = data[r * 2 + 1];
        t.dispose?.();
      }
      return out;
    },
    async close(): Promise<void> {
      if (!closed) {
        closed = true;
        await session.release();
      }
    },
  };
}

/**
 * Decodes the model and reads its contract: exactly one graph input (besides initializers),
 * float32 of rank 2 with a fixed width, and a probability output.
 */
export function readInputContract(bytes: Uint8Array, label = 'the ONNX model'): InputContract {
  let model: OnnxTypes.ModelProto;
  const invalid = (why: string, cause?: unknown): MlopsError =>
    new MlopsError('ONNX_INVALID', `${label} is not a valid ONNX model: ${why}`, {
      hint: 'The file is corrupted or truncated, or not ONNX at all; re-train or re-export it',
      cause,
    });
  if (bytes.length === 0) throw invalid('the file is empty');
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw invalid(firstLine(e), e);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw invalid('it has no graph');
  const irVersion = Number(model.irVersion ?? 0);
  if (!(irVersion >= 3)) throw invalid(`ir_version ${irVersion}`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  const mismatch = (why: string): MlopsError =>
    new MlopsError('ONNX_CONTRACT_MISMATCH', `${label} does not follow the input contract: ${why}`, {
      hint: `A model takes one float32 input [N, f] (f = number of features, schema order) and returns ${ONNX_OUTPUT} float32 [N, 1]`,
    });
  if (inputs.length !== 1) throw mismatch(`it has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}), expected 1`);
  const input = inputs[0];
  const tt = input.type?.tensorType;
  if (!tt || tt.elemType !== onnx.TensorProto.DataType.FLOAT) throw mismatch(`input ${input.name} is not a float32 tensor`);
  const dims = tt.shape?.dim ?? [];
  const width = dims.length === 2 ? dims[1] : undefined;
  const nFeatures = width?.dimValue != null ? Number(width.dimValue) : NaN;
  if (dims.length !== 2 || !(nFeatures > 0)) throw mismatch(`input ${input.name} is not [N, f] with a fixed f`);

  const outputs = graph.output ?? [];
  let output = outputs.find((o) => o.name === ONNX_OUTPUT);
  let outputColumn = 0;
  if (!output) {
    // A classifier exported elsewhere (e.g. skl2onnx with zipmap off): [N, 2] class probabilities.
    output = outputs.find((o) => {
      const d = o.type?.tensorType?.shape?.dim ?? [];
      return o.type?.tensorType?.elemType === onnx.TensorProto.DataType.FLOAT && d.length === 2 && Number(d[1].dimValue) === 2;
    });
    outputColumn = 1;
  }
  if (!output || !output.type?.tensorType) {
    throw mismatch(`no float output named ${ONNX_OUTPUT} [N, 1] (outputs: ${outputs.map((o) => o.name).join(', ') || 'none'})`);
  }
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  let featureNames: string[] | null = null;
  if (metadata[META.featureNames] !== undefined) {
    try {
      const parsed: unknown = JSON.parse(metadata[META.featureNames]);
      if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) featureNames = parsed;
    } catch {
      featureNames = null;
    }
    if (!featureNames) throw mismatch(`metadata ${META.featureNames} is not a JSON array of strings`);
    if (featureNames.length !== nFeatures) {
      throw mismatch(`metadata names ${featureNames.length} features but the input has ${nFeatures} columns`);
    }
  }
  const opsets: Record<string, number> = {};
  for (const o of model.opsetImport ?? []) opsets[o.domain || 'ai.onnx'] = Number(o.version ?? 0);
  return {
    input: input.name ?? '',
    nFeatures,
    output: output.name ?? '',
    outputColumn,
    featureNames,
    schemaVersion: metadata[META.schemaVersion] ?? null,
    trainer: metadata[META.trainer] ?? null,
    metadata,
    irVersion,
    opsets,
  };
}

/** The model must take exactly these features (count always; names when it records them). */
export function checkContract(contract: InputContract, featureNames: readonly string[], label = 'the ONNX model'): void {
  if (contract.nFeatures !== featureNames.length) {
    throw new MlopsError(
      'ONNX_CONTRACT_MISMATCH',
      `${label} takes ${contract.nFeatures} features but the schema has ${featureNames.length}`,
      {
        hint: 'Train the model on the features of this schema version (or evaluate with the schema it was trained on)',
        data: { model: contract.nFeatures, schema: featureNames.length },
      },
    );
  }
  if (contract.featureNames) {
    const i = contract.featureNames.findIndex((name, k) => name !== featureNames[k]);
    if (i >= 0) {
      throw new MlopsError(
        'ONNX_CONTRACT_MISMATCH',
        `${label} feature ${i} is "${contract.featureNames[i]}" but the schema's is "${featureNames[i]}"`,
        { hint: 'Columns must come in schema order; train the model on this schema version' },
      );
    }
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
