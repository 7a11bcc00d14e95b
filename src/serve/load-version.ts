// Loads one registered version for serving: its ONNX artifact, the fitted feature state
// (features.json beside it) and the feature schema it was trained on, each checked against the
// hashes of its manifest first, so what serves is exactly what was registered and reviewed.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { MlopsError } from '../errors.js';
import { sha256Hex } from '../util/hash.js';
import { schemaFile, versionDir } from '../registry/paths.js';
import type { ManifestDoc } from '../registry/types.js';
import {
  featureNames,
  fitFeaturizer,
  parseFeatureSchema,
  parseFittedState,
  type FeatureSchema,
  type FittedState,
} from '../data/features.js';
import { loadOnnxModel, type OnnxScorer } from '../train/onnx-model.js';

/** Name of the fitted-state sidecar `mlops train` writes beside model.onnx. */
export const FEATURES_FILE = 'features.json';

export interface LoadedVersion {
  model: string;
  version: string;
  /** Content identity: the same manifest hashes give the same identity (see versionIdentity). */
  identity: string;
  schema: FeatureSchema;
  state: FittedState;
  scorer: OnnxScorer;
  nFeatures: number;
}

/**
 * What makes a loaded version reusable across reloads: model, version and the content hashes
 * the manifest records. A reload that finds the same identity keeps the loaded session.
 */
export function versionIdentity(manifest: ManifestDoc): string {
  const files = (manifest.artifact.files ?? []).map((f) => `${f.path}=${f.sha256}`).sort().join(',');
  return `${manifest.model}@${manifest.version}:${manifest.artifact.sha256}:${manifest.schema.version}=${manifest.schema.sha256}:${files}`;
}

/** Absolute paths of the files a version needs, for change detection (stat signatures). */
export function versionPaths(root: string, manifest: ManifestDoc): string[] {
  const dir = join(root, versionDir(manifest.model, manifest.version));
  return [
    join(dir, 'manifest.yaml'),
    ...[manifest.artifact, ...(manifest.artifact.files ?? [])].map((f) => join(dir, f.path)),
    join(root, schemaFile(manifest.schema.version)),
  ];
}

// A transform that learns from data cannot be served without the state fitted at training.
function needsFittedState(schema: FeatureSchema): boolean {
  return schema.features.some((f) => f.transform === 'target_rate' || f.scale === 'standard');
}

function insideFolder(folder: string, rel: string, label: string): string {
  const abs = join(folder, normalize(rel));
  const r = relative(folder, abs);
  if (isAbsolute(rel) || r === '' || r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
    throw new MlopsError('ARTIFACT_PATH_ESCAPES', `${label}: ${rel} leaves its version folder`, {
      hint: 'Artifact paths in a manifest are relative to the version folder and stay inside it.',
    });
  }
  return abs;
}

async function readChecked(path: string, rel: string, expected: { sha256: string; bytes?: number }, label: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new MlopsError('ARTIFACT_NOT_FOUND', `${label}: ${rel} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause,
      hint: 'Check out the version folder completely (git lfs pull, if artifacts are in LFS).',
    });
  }
  const sha = sha256Hex(bytes);
  if (sha !== expected.sha256) {
    throw new MlopsError('ARTIFACT_HASH_MISMATCH', `${label}: SHA-256 of ${rel} is ${sha}, the manifest says ${expected.sha256}`, {
      hint: 'The file changed after registration; restore it from git (`mlops verify` lists every such file).',
    });
  }
  return bytes;
}

export interface LoadVersionOptions {
  root: string;
  manifest: ManifestDoc;
  /** onnxruntime intra-op threads per session (1 suits one-record requests on a busy event loop). */
  threads?: number;
}

/** Loads a version; throws an MlopsError with the failing step's code (nothing stays open). */
export async function loadServingVersion({ root, manifest, threads }: LoadVersionOptions): Promise<LoadedVersion> {
  const { model, version } = manifest;
  const label = `${model}@${version}`;
  const folder = join(root, versionDir(model, version));
  const artifactPath = insideFolder(folder, manifest.artifact.path, label);
  const schemaRel = schemaFile(manifest.schema.version);
  const schemaBytes = await readChecked(join(root, schemaRel), schemaRel, manifest.schema, label).catch((e: MlopsError) => {
    // The schema is not an artifact: name the right problem.
    if (e.code === 'ARTIFACT_NOT_FOUND') throw new MlopsError('SCHEMA_NOT_FOUND', `${label}: feature schema ${schemaRel} cannot be read`, { cause: e });
    if (e.code === 'ARTIFACT_HASH_MISMATCH') throw new MlopsError('SCHEMA_HASH_MISMATCH', e.message, { hint: 'Schemas are immutable once used: restore it from git.' });
    throw e;
  });
  const schema = parseFeatureSchema(schemaBytes.toString('utf8'), schemaRel);

  const sidecar = (manifest.artifact.files ?? []).find((f) => f.path === FEATURES_FILE || f.path.endsWith(`/${FEATURES_FILE}`));
  let state: FittedState;
  if (sidecar) {
    const bytes = await readChecked(insideFolder(folder, sidecar.path, label), `${versionDir(model, version)}/${sidecar.path}`, sidecar, label);
    state = parseFittedState(bytes.toString('utf8'), schema);
  } else if (!needsFittedState(schema)) {
    // Nothing to fit: the state of an empty fit is the state training would have written.
    state = fitFeaturizer(schema, []);
  } else {
    throw new MlopsError('FEATURE_STATE_INVALID', `${label} has no ${FEATURES_FILE} beside its artifact, and schema ${schema.version} has fitted transforms`, {
      hint: `Register the version with its fitted state: --sidecar ${FEATURES_FILE}`,
    });
  }
  const names = featureNames(schema, state);
  const artifact = await readChecked(artifactPath, `${versionDir(model, version)}/${manifest.artifact.path}`, manifest.artifact, label);
  const scorer = await loadOnnxModel(artifact, { expectFeatureNames: names, threads, label });
  return { model, version, identity: versionIdentity(manifest), schema, state, scorer, nFeatures: names.length };
}

/** `ino:size:mtime:ctime` of a path, or `-` when it does not exist: cheap change detection. */
export async function statKey(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return '-';
  }
}
