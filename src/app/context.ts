// What every use case starts from: the git repository, the registry files in its working tree,
// and the configuration. Also the one applier of plans.
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { ParseCache } from '../util/parse-cache.js';
import { TOOL_VERSION } from '../version.js';
import { GitRepo } from '../git/repo.js';
import { loadConfig, type MlopsConfig } from '../config/config.js';
import { RegistryStore, modelNotFound } from './registry-store.js';
import { deploymentsFile, GUARDED_PATHS } from '../registry/paths.js';
import { parseRegistrationTag } from '../registry/semver.js';
import type { Plan } from '../registry/plan.js';
import type { ModelState } from '../registry/types.js';

export interface Context {
  repo: GitRepo;
  store: RegistryStore;
  /** Root of the working tree. */
  root: string;
  config: MlopsConfig;
  configPath: string | null;
  /** The clock, injectable for tests and `--at`. */
  now: () => Date;
}

export interface ContextOptions {
  dir?: string;
  configFile?: string;
  now?: () => Date;
}

export async function openContext(opts: ContextOptions = {}): Promise<Context> {
  // An injected clock also dates the commits, so a simulated week reads as one in `git log`.
  const repo = await GitRepo.open(opts.dir ?? process.cwd(), { clock: opts.now });
  const cache = ParseCache.open(join(repo.dir, '.mlops', 'cache'), 'config', TOOL_VERSION);
  const { config, path } = await loadConfig({ dir: repo.dir, file: opts.configFile, cache });
  return { repo, store: new RegistryStore(repo.dir), root: repo.dir, config, configPath: path, now: opts.now ?? (() => new Date()) };
}

/** ISO 8601 in UTC to the second, as the manifests write it. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The model named on the command line, else the configured one, else the only one. */
export function resolveModelName(ctx: Context, model?: string): string {
  if (model) return model;
  const models = ctx.store.listModels();
  if (models.includes(ctx.config.model)) return ctx.config.model;
  if (models.length === 1) return models[0]!;
  if (models.length === 0) throw modelNotFound(ctx.config.model, models);
  throw new MlopsError('USAGE', `this registry holds several models (${models.join(', ')}): say which`, { hint: 'Pass --model NAME (or MODEL@VERSION).' });
}

/** Versions that exist only as tags of `model` (registrations that were reverted). */
export async function taggedVersions(ctx: Context, model: string): Promise<string[]> {
  const tags = await ctx.repo.listTags(`${model}@`);
  return tags.map((t) => parseRegistrationTag(t.name)).filter((t) => t && t.model === model).map((t) => t!.version);
}

export async function loadModelState(ctx: Context, model: string, opts: { tags?: boolean } = {}): Promise<ModelState> {
  const state = await ctx.store.loadModel(model);
  const tagged = opts.tags ? (await taggedVersions(ctx, model)).filter((v) => !state.versions.has(v)) : [];
  return { ...state, taggedVersions: tagged };
}

/**
 * The pointer invariants a state change builds on (SPEC 3.4): refuse to plan on top of a
 * deployments.yaml that names a missing or inactive version, or the same version twice.
 */
export function assertPointersValid(state: ModelState): void {
  const d = state.deployments;
  const file = deploymentsFile(d.model);
  for (const [stage, v] of [['production', d.production], ['canary', d.canary?.version ?? null]] as const) {
    if (!v) continue;
    const e = state.versions.get(v);
    if (!e) {
      throw new MlopsError('POINTER_TO_MISSING_VERSION', `${file}: ${stage} points to ${v}, which is not registered`, {
        hint: 'Fix the pointer (or restore the version) and commit, then run the command again; `mlops verify` lists every problem.',
      });
    }
    if (e.manifest.lifecycle.state !== 'active') {
      throw new MlopsError('POINTER_TO_INACTIVE_VERSION', `${file}: ${stage} points to ${v}, which is ${e.manifest.lifecycle.state}`, {
        hint: 'Point it to an active version and commit; `mlops verify` lists every problem.',
      });
    }
  }
  if (d.canary && d.canary.version === d.production) {
    throw new MlopsError('CANARY_IS_PRODUCTION', `${file}: canary and production are both ${d.production}`, { hint: 'Set canary: null and commit.' });
  }
}

/** Checks a version's files before it is moved into a stage: artifact and schema present, inside their place, unchanged. */
export async function assertArtifactIntact(ctx: Context, state: ModelState, version: string): Promise<void> {
  const entry = state.versions.get(version);
  if (!entry) return; // the planner reports the missing version
  const { checkVersionFiles } = await import('./verify.js');
  const problems = await checkVersionFiles(ctx.root, entry.folder, entry.manifest);
  if (problems.length) {
    const p = problems[0]!;
    throw new MlopsError(p.code, `${p.path}: ${p.message}`, { hint: p.hint, data: { problems } });
  }
}

/** Refuses to change state on a detached HEAD or with uncommitted changes to registry files. */
export async function assertWritable(ctx: Context): Promise<string> {
  const branch = await ctx.repo.currentBranch();
  if (!branch) {
    throw new MlopsError('DETACHED_HEAD', 'HEAD is detached: registry changes are commits on a branch', {
      hint: `Check out a branch first, e.g. \`git switch ${ctx.config.forge.base}\`.`,
    });
  }
  const dirty = await ctx.repo.dirtyPaths(GUARDED_PATHS);
  if (dirty.length) {
    throw new MlopsError('DIRTY_REGISTRY', `uncommitted changes under registry files: ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ` and ${dirty.length - 5} more` : ''}`, {
      hint: 'Commit or discard them first (`git status`), so that the change is one clean commit.',
      data: { paths: dirty },
    });
  }
  return branch;
}

export interface Applied {
  commit: string;
  /** 'revert' when the commit is a real `git revert`, 'forward' for its fallback, 'commit' otherwise. */
  how: 'commit' | 'revert' | 'forward';
  tags: string[];
  conflicts?: string[];
}

/**
 * Performs a plan as one commit (a real revert when the plan asks for one and it applies),
 * then creates its tags. On any failure before the commit lands, nothing has changed.
 */
export async function applyPlan(ctx: Context, plan: Plan, opts: { expectedHead?: string | null } = {}): Promise<Applied> {
  let commit: string;
  let how: Applied['how'] = 'commit';
  let conflicts: string[] | undefined;
  if (plan.revert) {
    const r = await ctx.repo.revert(plan.revert.commit, plan.revert.message);
    if (r.ok) {
      commit = r.commit;
      how = 'revert';
    } else {
      conflicts = r.conflicts;
      commit = await ctx.repo.commitFiles({ edits: plan.edits, message: plan.message });
      how = 'forward';
    }
  } else {
    commit = await ctx.repo.commitFiles({ edits: plan.edits, message: plan.message, expectedHead: opts.expectedHead });
  }
  const tags: string[] = [];
  for (const t of plan.tags) {
    await ctx.repo.createTag(t.name, commit, t.message);
    tags.push(t.name);
  }
  return { commit, how, tags, ...(conflicts ? { conflicts } : {}) };
}
