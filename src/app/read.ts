// Read use cases: list, show, get. They read the working tree through the parse cache; `get`
// reads only deployments.yaml and one manifest, or a ref of the repository in-process.
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { deploymentsFile, manifestFile, versionDir } from '../registry/paths.js';
import { registrationTag, sortVersionsDesc } from '../registry/semver.js';
import { deriveStatus, statusOf } from '../registry/status.js';
import type { DeploymentsDoc, ManifestDoc, Status } from '../registry/types.js';
import { loadModelState, resolveModelName, type Context } from './context.js';
import { checkManifestIdentity } from './registry-store.js';

export interface VersionRow {
  model: string;
  version: string;
  status: Status;
  created_at: string;
  parent: string | null;
  weight: number | null;
  dataset: { name: string; sha256: string; rows: number | null };
  schema: string;
  trainer: string;
  metrics: Record<string, number | null>;
  reason: string | null;
}

export async function listVersions(ctx: Context, opts: { model?: string } = {}): Promise<VersionRow[]> {
  const models = opts.model ? [opts.model] : ctx.store.listModels();
  const rows: VersionRow[] = [];
  for (const model of models) {
    const state = await ctx.store.loadSummaries(model);
    for (const m of sortVersionsDesc(state.versions, (v) => v.version)) {
      const status = statusOf(m.version, m.state, state.deployments);
      rows.push({
        model,
        version: m.version,
        status,
        created_at: m.created_at,
        parent: m.parent,
        weight: status === 'canary' ? state.deployments.canary!.weight : status === 'production' ? 1 - (state.deployments.canary?.weight ?? 0) : null,
        dataset: m.dataset,
        schema: m.schema,
        trainer: m.trainer,
        metrics: m.metrics,
        reason: m.reason,
      });
    }
  }
  ctx.store.flush();
  return rows;
}

export interface ShowResult {
  model: string;
  version: string;
  status: Status;
  folder: string;
  manifest: ManifestDoc;
  tag: { name: string; commit: string } | null;
}

export async function showVersion(ctx: Context, opts: { model: string; version: string }): Promise<ShowResult> {
  const state = await loadModelState(ctx, opts.model);
  const entry = state.versions.get(opts.version);
  if (!entry) {
    throw new MlopsError('VERSION_NOT_FOUND', `${opts.model}@${opts.version} is not registered`, {
      hint: `See the registered versions with \`mlops list --model ${opts.model}\`.`,
    });
  }
  const tagName = registrationTag(opts.model, opts.version);
  const tag = (await ctx.repo.listTags(tagName)).find((t) => t.name === tagName);
  return {
    model: opts.model,
    version: opts.version,
    status: deriveStatus(entry.manifest, state.deployments),
    folder: entry.folder,
    manifest: entry.manifest,
    tag: tag ? { name: tag.name, commit: tag.commit } : null,
  };
}

export interface GetResult {
  model: string;
  stage: 'production' | 'canary';
  version: string;
  weight: number;
  /** Absolute path of the artifact in the working tree (null when read at a ref). */
  path: string | null;
  artifact: ManifestDoc['artifact'];
  schema: string;
  ref: string | null;
}

/**
 * The version serving a stage and its artifact: the original design's get_model('production').
 * With `ref`, reads deployments.yaml and the manifest at that ref in-process (isomorphic-git).
 */
export async function getStage(ctx: Context, opts: { model?: string; stage: 'production' | 'canary'; ref?: string }): Promise<GetResult> {
  const model = resolveModelName(ctx, opts.model);
  let deployments: DeploymentsDoc;
  let readManifest: (v: string) => Promise<ManifestDoc>;
  if (opts.ref) {
    const ref = opts.ref;
    const { parseAndValidateYaml } = await import('../util/validate.js');
    const readAt = async <T>(path: string, schema: 'deployments' | 'model-version', code: 'DEPLOYMENTS_INVALID' | 'MANIFEST_INVALID'): Promise<T> => {
      const bytes = await ctx.repo.readFileAt(ref, path);
      if (!bytes) throw new MlopsError('FILE_NOT_FOUND', `${path} does not exist at ${ref}`, { hint: 'Check the ref and the model name.' });
      return parseAndValidateYaml<T>(bytes.toString('utf8'), `${ref}:${path}`, schema, code);
    };
    deployments = await readAt<DeploymentsDoc>(deploymentsFile(model), 'deployments', 'DEPLOYMENTS_INVALID');
    readManifest = async (v) => {
      const doc = await readAt<ManifestDoc>(manifestFile(model, v), 'model-version', 'MANIFEST_INVALID');
      checkManifestIdentity(doc, model, v, manifestFile(model, v));
      return doc;
    };
  } else {
    await ctx.store.readModel(model);
    deployments = await ctx.store.readDeployments(model);
    readManifest = (v) => ctx.store.readManifest(model, v);
  }
  const version = opts.stage === 'production' ? deployments.production : deployments.canary?.version ?? null;
  if (!version) {
    throw new MlopsError(opts.stage === 'production' ? 'NO_PRODUCTION' : 'CANARY_NOT_RUNNING', `${model} has no ${opts.stage} version${opts.ref ? ` at ${opts.ref}` : ''}`, {
      hint: opts.stage === 'production' ? `Promote one with \`mlops promote ${model}@<version>\`.` : `Start one with \`mlops canary start ${model}@<version>\`.`,
    });
  }
  const manifest = await readManifest(version);
  ctx.store.flush();
  return {
    model,
    stage: opts.stage,
    version,
    weight: opts.stage === 'canary' ? deployments.canary!.weight : 1 - (deployments.canary?.weight ?? 0),
    path: opts.ref ? null : join(ctx.root, versionDir(model, version), manifest.artifact.path),
    artifact: manifest.artifact,
    schema: manifest.schema.version,
    ref: opts.ref ?? null,
  };
}

