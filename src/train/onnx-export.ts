// Writes a trained model as ONNX (IR version 8, opsets ai.onnx 15 and ai.onnx.ml 2), the format
// every runtime of the product serves. The contract of every model this tool writes:
//
//   input   `features`     float32 [N, f]   the featurized rows, columns in schema order
//   output  `probability`  float32 [N, 1]   P(success) of each row
//
//   gbdt:     features -> TreeEnsembleRegressor (raw log-odds) -> Sigmoid -> probability
//   logistic: features -> Scaler (standardise) -> LinearRegressor (log-odds) -> Sigmoid -> probability
//
// metadata_props (all strings, keys sorted) carry the input contract: mlops.feature_names (JSON
// array), mlops.n_features, mlops.schema_version, plus mlops.trainer, mlops.params (JSON),
// mlops.seed, mlops.tool_version and any extra keys given. Nothing time- or machine-dependent goes
// in, floats are stored as float32 and JSON is written with sorted keys, so the same model gives
// the same bytes.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { MlopsError } from '../errors.js';
import type { GbdtModel } from './gbdt.js';
import type { LogisticModel } from './logistic.js';
import { TOOL_VERSION } from '../version.js';

const { onnx } = onnxProto;

export type TrainedModel = GbdtModel | LogisticModel;

export const ONNX_INPUT = 'features';
export const ONNX_OUTPUT = 'probability';
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSETS = { 'ai.onnx': 15, 'ai.onnx.ml': 2 } as const;

/** Metadata keys of the input contract. */
export const META = {
  featureNames: 'mlops.feature_names',
  nFeatures: 'mlops.n_features',
  schemaVersion: 'mlops.schema_version',
  trainer: 'mlops.trainer',
  params: 'mlops.params',
  seed: 'mlops.seed',
  toolVersion: 'mlops.tool_version',
} as const;

export interface ExportOnnxOptions {
  featureNames: readonly string[];
  schemaVersion: string;
  seed?: number | null;
  /** Defaults to this package's version. */
  toolVersion?: string;
  /** Graph name (e.g. the model name); defaults to "mlops-<trainer>". */
  graphName?: string;
  /** Extra metadata_props (e.g. dataset hash); values must be strings. */
  metadata?: Record<string, string>;
}

export function exportOnnx(model: TrainedModel, opts: ExportOnnxOptions): Uint8Array {
  const { featureNames, schemaVersion } = opts;
  const f = model.nFeatures;
  if (featureNames.length !== f) {
    throw new MlopsError('ONNX_CONTRACT_MISMATCH', `The model takes ${f} features but ${featureNames.length} feature names were given`, {
      hint: 'Pass the feature names of the schema the model was trained with, in column order',
    });
  }
  const toolVersion = opts.toolVersion ?? TOOL_VERSION;
  const trainer = model.kind;
  const nodes = model.kind === 'gbdt' ? gbdtNodes(model) : logisticNodes(model);
  const metadata: Record<string, string> = {
    ...(opts.metadata ?? {}),
    [META.featureNames]: JSON.stringify(featureNames),
    [META.nFeatures]: String(f),
    [META.schemaVersion]: schemaVersion,
    [META.trainer]: trainer,
    [META.params]: canonicalJson(model.params),
    [META.seed]: opts.seed == null ? '' : String(opts.seed),
    [META.toolVersion]: toolVersion,
  };
  const graph = onnx.GraphProto.create({
    name: opts.graphName ?? `mlops-${trainer}`,
    docString: `input ${ONNX_INPUT}: float32 [N, ${f}] in schema order; output ${ONNX_OUTPUT}: float32 [N, 1], P(success)`,
    node: nodes,
    input: [tensorInfo(ONNX_INPUT, ['N', f])],
    output: [tensorInfo(ONNX_OUTPUT, ['N', 1])],
    // Types of the intermediate tensors: some ai.onnx.ml operators have no type inference in the
    // reference checker, so strict shape inference needs them spelled out.
    valueInfo:
      model.kind === 'gbdt'
        ? [tensorInfo('log_odds', ['N', 1])]
        : [tensorInfo('standardised', ['N', f]), tensorInfo('log_odds', ['N', 1])],
  });
  const proto = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [
      onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSETS['ai.onnx'] }),
      onnx.OperatorSetIdProto.create({ domain: 'ai.onnx.ml', version: ONNX_OPSETS['ai.onnx.ml'] }),
    ],
    producerName: 'mlops-gitops',
    producerVersion: toolVersion,
    domain: 'dev.mlops-gitops',
    modelVersion: 1,
    docString: `Binary outcome model (${trainer}) written by mlops-gitops`,
    graph,
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => onnx.StringStringEntryProto.create({ key, value: metadata[key] })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

function gbdtNodes(model: GbdtModel): OnnxTypes.INodeProto[] {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: Uint8Array[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const targetTree: number[] = [];
  const targetNode: number[] = [];
  const targetIds: number[] = [];
  const weights: number[] = [];
  const LEQ = utf8('BRANCH_LEQ');
  const LEAF = utf8('LEAF');
  model.trees.forEach((tree, t) => {
    for (let k = 0; k < tree.feature.length; k++) {
      const leaf = tree.feature[k] < 0;
      treeIds.push(t);
      nodeIds.push(k);
      featureIds.push(leaf ? 0 : tree.feature[k]);
      values.push(leaf ? 0 : tree.threshold[k]);
      modes.push(leaf ? LEAF : LEQ);
      trueIds.push(leaf ? 0 : tree.left[k]);
      falseIds.push(leaf ? 0 : tree.right[k]);
      if (leaf) {
        targetTree.push(t);
        targetNode.push(k);
        targetIds.push(0);
        weights.push(tree.value[k]);
      }
    }
  });
  const ensemble = onnx.NodeProto.create({
    name: 'trees',
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    input: [ONNX_INPUT],
    output: ['log_odds'],
    attribute: [
      ints('nodes_treeids', treeIds),
      ints('nodes_nodeids', nodeIds),
      ints('nodes_featureids', featureIds),
      floats('nodes_values', values),
      strings('nodes_modes', modes),
      ints('nodes_truenodeids', trueIds),
      ints('nodes_falsenodeids', falseIds),
      ints('target_treeids', targetTree),
      ints('target_nodeids', targetNode),
      ints('target_ids', targetIds),
      floats('target_weights', weights),
      floats('base_values', [model.baseScore]),
      int('n_targets', 1),
      string('aggregate_function', 'SUM'),
      string('post_transform', 'NONE'),
    ],
  });
  return [ensemble, sigmoidNode('log_odds')];
}

function logisticNodes(model: LogisticModel): OnnxTypes.INodeProto[] {
  const scaler = onnx.NodeProto.create({
    name: 'standardise',
    opType: 'Scaler',
    domain: 'ai.onnx.ml',
    input: [ONNX_INPUT],
    output: ['standardised'],
    attribute: [floats('offset', Array.from(model.offset)), floats('scale', Array.from(model.scale))],
  });
  const linear = onnx.NodeProto.create({
    name: 'linear',
    opType: 'LinearRegressor',
    domain: 'ai.onnx.ml',
    input: ['standardised'],
    output: ['log_odds'],
    attribute: [
      floats('coefficients', Array.from(model.coef)),
      floats('intercepts', [model.intercept]),
      int('targets', 1),
      string('post_transform', 'NONE'),
    ],
  });
  return [scaler, linear, sigmoidNode('log_odds')];
}

function sigmoidNode(input: string): OnnxTypes.INodeProto {
  return onnx.NodeProto.create({ name: 'sigmoid', opType: 'Sigmoid', domain: '', input: [input], output: [ONNX_OUTPUT] });
}

function tensorInfo(name: string, dims: (string | number)[]): OnnxTypes.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'string'
              ? onnx.TensorShapeProto.Dimension.create({ dimParam: d })
              : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

const A = onnx.AttributeProto.AttributeType;

function ints(name: string, v: number[]): OnnxTypes.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: A.INTS, ints: v });
}
function floats(name: string, v: number[]): OnnxTypes.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: A.FLOATS, floats: v });
}
function int(name: string, v: number): OnnxTypes.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: A.INT, i: v });
}
function string(name: string, v: string): OnnxTypes.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: A.STRING, s: utf8(v) });
}
function strings(name: string, v: Uint8Array[]): OnnxTypes.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: A.STRINGS, strings: v });
}
function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
