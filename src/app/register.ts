// Use case: register a new version (SPEC 3.2, 3.5, 3.6). Reads the artifact, hashes the
// dataset and schema, plans the manifest and its commit, applies it, tags it on the default branch.
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { MlopsError } from '../errors.js';
import { sha256File, sha256Hex } from '../util/hash.js';
import { readLock } from '../data/read-lock.js';
import { LOCK_FILE, schemaFile } from '../registry/paths.js';
import { planRegister, type ArtifactInput, type RegisterRequest } from '../registry/plans.js';
import { describePlan } from '../registry/plan.js';
import type { Bump } from '../registry/semver.js';
import type { ManifestDoc, Metrics } from '../registry/types.js';
import { TOOL_VERSION } from '../version.js';
import { applyPlan, assertPointersValid, assertWritable, isoSeconds, loadModelState, type Applied, type Context } from './context.js';
import { statOrNull } from './registry-store.js';

export interface RegisterOptions {
  model: string;
  /** Path of the ONNX file to register. */
  artifact: string | ArtifactInput;
  /** Files the artifact needs beside it (paths, or bytes with names). */
  sidecars?: Array<string | ArtifactInput>;
  /** A dataset name from datasets.lock, or a file path (hashed as is). */
  dataset: string | ManifestDoc['dataset'];
  /** Feature schema version; defaults to the model's schema_version. */
  schema?: string;
  metrics?: Metrics | string;
  training?: Partial<ManifestDoc['training']>;
  validation?: ManifestDoc['validation'];
  description?: string;
  bump?: Bump;
  version?: string;
  message?: string;
  dryRun?: boolean;
}

export interface RegisterResult {
  model: string;
  version: string;
  manifest: ManifestDoc;
  plan: Record<string, unknown>;
  applied: Applied | null;
}

async function readArtifact(input: string | ArtifactInput, root: string): Promise<ArtifactInput> {
  if (typeof input !== 'string') return input;
  const path = resolve(root, input);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new MlopsError('ARTIFACT_NOT_FOUND', `artifact ${input} cannot be read`, { cause, hint: 'Pass the path of an existing file.' });
  }
  return { name: basename(path), bytes, sha256: sha256Hex(bytes) };
}

/** A dataset is a name from datasets.lock (the merged set's hash) or a file hashed as it is. */
export async function resolveDataset(root: string, dataset: string): Promise<ManifestDoc['dataset']> {
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(dataset)) {
    const entry = (await readLock(root)).lock.datasets[dataset];
    if (entry) return { name: dataset, sha256: entry.merged.sha256, rows: entry.merged.rows, shards: entry.shards.length };
  }
  const path = resolve(root, dataset);
  const st = statOrNull(path);
  if (!st || !st.isFile()) {
    throw new MlopsError('DATASET_NOT_FOUND', `dataset "${dataset}" is neither a dataset in ${LOCK_FILE} nor a file`, {
      hint: 'Pass a dataset name sealed by `mlops data collect`, or the path of the training file.',
    });
  }
  const { sha256 } = await sha256File(path);
  let rows: number | null = null;
  if (/\.(csv|jsonl|ndjson)$/i.test(path)) {
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n').filter((l) => l.length > 0).length;
    rows = /\.csv$/i.test(path) ? Math.max(0, lines - 1) : lines;
  }
  return { name: basename(path), sha256, rows, shards: null, path: dataset };
}

async function readMetrics(m: Metrics | string | undefined, root: string): Promise<Metrics> {
  if (m === undefined) return {};
  if (typeof m !== 'string') return m;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(resolve(root, m), 'utf8'));
  } catch (cause) {
    throw new MlopsError('INVALID_ARGUMENT', `metrics file ${m} is not readable JSON`, { cause, hint: 'Pass a JSON object of numbers, e.g. {"auc": 0.87}.' });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MlopsError('INVALID_ARGUMENT', `metrics file ${m} must hold a JSON object`, { hint: 'e.g. {"auc": 0.87, "accuracy": 0.81}' });
  }
  const out: Metrics = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (v === null) out[k] = null;
    // nested objects (e.g. a confusion matrix) are not manifest metrics: left out on purpose
  }
  return out;
}

export async function registerVersion(ctx: Context, opts: RegisterOptions): Promise<RegisterResult> {
  const branch = await assertWritable(ctx);
  const head = await ctx.repo.headOrNull();
  const state = await loadModelState(ctx, opts.model, { tags: true });
  assertPointersValid(state);
  const schemaVersion = opts.schema ?? state.model.schema_version;
  const schemaPath = join(ctx.root, schemaFile(schemaVersion));
  if (!statOrNull(schemaPath)) {
    throw new MlopsError('SCHEMA_NOT_FOUND', `feature schema ${schemaVersion} not found (${schemaFile(schemaVersion)})`, {
      hint: 'Pass --schema with a version that exists under registry/schemas/.',
    });
  }
  const [artifact, sidecars, dataset, metrics, schemaHash] = await Promise.all([
    readArtifact(opts.artifact, ctx.root),
    Promise.all((opts.sidecars ?? []).map((s) => readArtifact(s, ctx.root))),
    typeof opts.dataset === 'string' ? resolveDataset(ctx.root, opts.dataset) : Promise.resolve(opts.dataset),
    readMetrics(opts.metrics, ctx.root),
    sha256File(schemaPath),
  ]);
  const request: RegisterRequest = {
    artifact,
    sidecars,
    dataset,
    schema: { version: schemaVersion, sha256: schemaHash.sha256 },
    training: {
      trainer: opts.training?.trainer ?? 'external',
      params: opts.training?.params ?? {},
      seed: opts.training?.seed ?? null,
      tool_version: opts.training?.tool_version ?? TOOL_VERSION,
    },
    metrics,
    validation: opts.validation,
    description: opts.description,
    bump: opts.bump,
    version: opts.version,
    message: opts.message,
    tag: branch === ctx.config.forge.base,
  };
  const plan = planRegister(state, request, isoSeconds(ctx.now()));
  const applied = opts.dryRun ? null : await applyPlan(ctx, plan, { expectedHead: head });
  return { model: opts.model, version: plan.manifest.version, manifest: plan.manifest, plan: describePlan(plan), applied };
}
