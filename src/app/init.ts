// Use case: `mlops init` scaffolds a registry in a git repository (SPEC 2) in one commit:
// configuration, the starter feature schema, model.yaml, deployments.yaml, .gitignore entries
// configuration, the starter feature schema, model.yaml, deployments.yaml, .gitignore entries
// and the GitHub workflows (using this project's composite action). Files that exist are left as they are.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { GitRepo, type FileEdit } from '../git/repo.js';
import { CONFIG_FILES, defaultConfig } from '../config/config.js';
import { emptyDeployments, serializeDeployments } from '../registry/deployments.js';
import { newModelDoc, serializeModel } from '../registry/manifest.js';
import { deploymentsFile, modelFile, schemaFile } from '../registry/paths.js';
import { assertModelName } from '../registry/semver.js';
import { formatCommitMessage } from '../registry/commit-message.js';
import { starterFeatureSchema } from '../data/features.js';
import { statOrNull } from './registry-store.js';
import { workflowFiles, DEFAULT_ACTION_REF } from './workflows.js';

export interface InitOptions {
  dir: string;
  model?: string;
  dataset?: string;
  schemaVersion?: string;
  forge?: 'github' | 'local';
  /** Write .github/workflows (default true) using this composite action reference. */
  workflows?: boolean;
  actionRef?: string;
  dryRun?: boolean;
  /** Dates the commit (simulations); default: git's own clock. */
  now?: () => Date;
}

export interface InitResult {
  model: string;
  files: string[];
  commit: string | null;
}

const GITIGNORE_LINES = ['.mlops/', 'node_modules/'];

/** The files `init` would add, given which already exist (pure apart from the reads passed in). */
export function planInit(args: {
  model: string;
  dataset: string;
  schemaVersion: string;
  forge: 'github' | 'local';
  workflows: boolean;
  actionRef: string;
  exists: (path: string) => boolean;
  gitignore: string | null;
}): FileEdit[] {
  const edits: FileEdit[] = [];
  const add = (path: string, content: string) => {
    if (!args.exists(path)) edits.push({ path, content });
  };
  if (!CONFIG_FILES.some(args.exists)) {
    const d = defaultConfig();
    const config = {
      $schema: 'https://unpkg.com/mlops-gitops/dist/schemas/config.schema.json',
      model: args.model,
      dataset: args.dataset,
      schema_version: args.schemaVersion,
      train: d.train,
      retrain: d.retrain,
      canary: { ...d.canary, source: undefined },
      rollback: d.rollback,
      forge: { type: args.forge, base: d.forge.base },
      alerts: args.forge === 'github' ? [{ type: 'github-issue' }, { type: 'summary' }] : [{ type: 'summary' }],
    };
    add('mlops.config.json', JSON.stringify(config, null, 2) + '\n');
  }
  add(schemaFile(args.schemaVersion), starterFeatureSchema());
  add(modelFile(args.model), serializeModel(newModelDoc({ name: args.model, schemaVersion: args.schemaVersion })));
  add(deploymentsFile(args.model), serializeDeployments(emptyDeployments(args.model)));
  const current = args.gitignore ?? '';
  const missing = GITIGNORE_LINES.filter((l) => !current.split('\n').map((x) => x.trim()).includes(l));
  if (missing.length) edits.push({ path: '.gitignore', content: `${current}${current && !current.endsWith('\n') ? '\n' : ''}${missing.join('\n')}\n` });
  if (args.workflows) {
    const d = defaultConfig();
    const files = workflowFiles({ config: { model: args.model, retrain: d.retrain, forge: d.forge }, flavour: 'action', actionRef: args.actionRef });
    for (const [path, content] of Object.entries(files)) add(path, content);
  }
  return edits;
}

export async function initRegistry(opts: InitOptions): Promise<InitResult> {
  const model = opts.model ?? 'backlink-success';
  assertModelName(model);
  const repo = await GitRepo.open(opts.dir, { clock: opts.now });
  if (statOrNull(join(repo.dir, modelFile(model)))) {
    throw new MlopsError('ALREADY_INITIALIZED', `${modelFile(model)} already exists: ${model} is already in this registry`, {
      hint: 'Use `mlops list` to see it, or pass --model to add another model.',
    });
  }
  const gitignore = await readFile(join(repo.dir, '.gitignore'), 'utf8').catch(() => null);
  const edits = planInit({
    model,
    dataset: opts.dataset ?? 'backlink-outcomes',
    schemaVersion: opts.schemaVersion ?? 'schema_v1.0',
    forge: opts.forge ?? 'github',
    workflows: opts.workflows ?? true,
    actionRef: opts.actionRef ?? DEFAULT_ACTION_REF,
    exists: (p) => statOrNull(join(repo.dir, p)) !== null,
    gitignore,
  });
  const files = edits.map((e) => e.path);
  if (opts.dryRun) return { model, files, commit: null };
  const dirty = await repo.dirtyPaths(files);
  if (dirty.length) {
    throw new MlopsError('DIRTY_REGISTRY', `uncommitted changes in ${dirty.join(', ')}`, { hint: 'Commit or discard them first.' });
  }
  const commit = await repo.commitFiles({
    edits,
    message: formatCommitMessage({ model, action: 'init', version: null, previous: null, body: `Scaffold the registry of ${model}.` }),
  });
  return { model, files, commit };
}
