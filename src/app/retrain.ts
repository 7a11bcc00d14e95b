// Use case: `mlops retrain`, the weekly job (SPEC 9). In a worktree of the branch
// mlops/retrain/<model>, rebuilt from the base branch: collect the new outcomes (one commit:
// shard + lock), train on the merged set, evaluate with onnxruntime, validate against
// production on the same test split, register (one commit), point the canary at it — or, for
// a model's first version, production (one commit) — then push the branch and open or update
// the one pull request. Merging the PR starts the canary; closing it discards the retrain.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MlopsError, isMlopsError } from '../errors.js';
import type { Metrics as TrainMetrics } from '../train/metrics.js';
import type { ProgressCallback } from '../train/progress.js';
import type { ManifestDoc, Metrics } from '../registry/types.js';
import type { Forge } from '../forge/types.js';
import type { Notifier } from '../alerts/types.js';
import type { AlertStateStore } from '../alerts/state.js';
import { TOOL_VERSION } from '../version.js';
import { assertPointersValid, loadModelState, resolveModelName, type Context } from './context.js';
import { collectOutcomes, type CollectResult } from './data-collect.js';
import { trainFromDataset, type TrainFromDatasetResult } from './train.js';
import { scoreVersion } from './evaluate.js';
import { registerVersion } from './register.js';
import { canaryStart, promote } from './stage-ops.js';
import { withBranchWorktree, withLock } from './worktree.js';

export type RetrainStepName = 'collect' | 'merge' | 'features' | 'train' | 'evaluate' | 'validate' | 'register' | 'deploy' | 'pull-request';

export interface RetrainStep {
  name: RetrainStepName;
  ms: number;
  detail: string;
}

export interface Validation {
  passed: boolean;
  threshold: number;
  max_regression: number;
  auc: number;
  baseline: string | null;
  baseline_auc: number | null;
  reasons: string[];
}

export interface RetrainResult {
  model: string;
  status: 'skipped' | 'created' | 'updated' | 'unchanged' | 'dry-run' | 'failed';
  reason: string | null;
  version: string | null;
  branch: string;
  deploy: 'canary' | 'production' | null;
  newSamples: number;
  steps: RetrainStep[];
  collect: Pick<CollectResult, 'newRows' | 'dropped' | 'shard' | 'merged'> | null;
  metrics: Metrics | null;
  production: { version: string; metrics: Metrics } | null;
  validation: Validation | null;
  commits: string[];
  pullRequest: { number: number; url: string; action: string } | null;
}

export interface RetrainOptions {
  model?: string;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  forge?: Forge;
  notifiers?: Notifier[];
  alertState?: AlertStateStore;
  /** Each step as it ends (the CLI prints it). */
  onStep?: (step: RetrainStep) => void;
  onProgress?: ProgressCallback;
  stdout?: { write(s: string): unknown };
}

const METRIC_ORDER = ['auc', 'log_loss', 'accuracy', 'precision', 'recall', 'f1', 'brier', 'ece'];

function numericMetrics(m: TrainMetrics | Record<string, unknown>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = Number(v.toFixed(6));
  return out;
}

/** The validation gate (SPEC 8): AUC at least the threshold, and not worse than production by more than max_regression. */
export function validate(args: { auc: number; threshold: number; maxRegression: number; baseline: { version: string; auc: number } | null }): Validation {
  const reasons: string[] = [];
  if (Number.isNaN(args.auc)) reasons.push('test AUC is undefined: the test split holds a single class');
  else if (args.auc < args.threshold) reasons.push(`test AUC ${args.auc.toFixed(4)} is below validation_threshold ${args.threshold}`);
  if (args.baseline && args.auc < args.baseline.auc - args.maxRegression) {
    reasons.push(`test AUC ${args.auc.toFixed(4)} is worse than production ${args.baseline.version} (${args.baseline.auc.toFixed(4)}) by more than max_regression ${args.maxRegression}`);
  }
  return {
    passed: reasons.length === 0,
    threshold: args.threshold,
    max_regression: args.maxRegression,
    auc: args.auc,
    baseline: args.baseline?.version ?? null,
    baseline_auc: args.baseline?.auc ?? null,
    reasons,
  };
}

export async function retrain(ctx: Context, opts: RetrainOptions = {}): Promise<RetrainResult> {
  const model = resolveModelName(ctx, opts.model);
  return withLock(ctx, `retrain-${model}`, () => retrainLocked(ctx, model, opts));
}

async function retrainLocked(ctx: Context, model: string, opts: RetrainOptions): Promise<RetrainResult> {
  const cfg = ctx.config;
  const env = opts.env ?? process.env;
  const state = await loadModelState(ctx, model, { tags: true });
  assertPointersValid(state);
  const production = state.deployments.production ? state.versions.get(state.deployments.production)!.manifest : null;
  const branch = opts.dryRun ? `mlops/retrain-dry-run/${model}-${process.pid}` : `mlops/retrain/${model}`;
  const result: RetrainResult = {
    model, status: 'failed', reason: null, version: null, branch, deploy: null, newSamples: 0, steps: [], collect: null,
    metrics: null, production: null, validation: null, commits: [], pullRequest: null,
  };
  let t = performance.now();
  let evaluateMark: number | undefined;
  /** Ends a step: its time runs from the end of the previous one (or to `end`, when it ended earlier). */
  const step = (name: RetrainStepName, detail: string, end = performance.now()) => {
    const s = { name, ms: Math.round(end - t), detail };
    t = end;
    result.steps.push(s);
    opts.onStep?.(s);
  };

  try {
    const run = await withBranchWorktree(
      ctx,
      branch,
      async (wt) => {
        // 1. collect: seal the outcomes not yet on the base branch into a shard (commit 1).
        const collected = await collectOutcomes({ dir: wt.root, dataset: cfg.dataset, mergeStrategy: cfg.retrain.merge_strategy, now: ctx.now(), commit: true });
        result.collect = { newRows: collected.newRows, dropped: collected.dropped, shard: collected.shard, merged: collected.merged };
        const trainedRows = production && production.dataset.name === cfg.dataset ? production.dataset.rows ?? 0 : 0;
        result.newSamples = Math.max(0, collected.merged.rows - trainedRows);
        step('collect', `${collected.newRows} new outcomes sealed${collected.shard ? ` into ${collected.shard.path}` : ''}; ${result.newSamples} samples since ${production ? production.version : 'the start'}`);
        if (result.newSamples < cfg.retrain.min_new_samples) {
          result.status = 'skipped';
          result.reason = `${result.newSamples} new samples since ${production ? `${production.version} was trained` : 'the start'}, fewer than retrain.min_new_samples ${cfg.retrain.min_new_samples}`;
          return false;
        }

        // 2-6. merge, features, prepare, train, evaluate (on the merged set of the branch).
        const out = join(wt.root, '.mlops', 'retrain-out');
        const modelDoc = await wt.store.readModel(model);
        const trained: TrainFromDatasetResult = await trainFromDataset({
          dir: wt.root,
          dataset: cfg.dataset,
          schemaVersion: modelDoc.schema_version,
          out,
          trainer: cfg.train.trainer,
          seed: cfg.train.seed,
          params: cfg.train.params,
          onProgress: opts.onProgress,
          // Each phase is a step of its own, timed as it ends; evaluation's figures are added below.
          onPhase: (phase, detail) => (phase === 'evaluate' ? (evaluateMark = performance.now()) : step(phase, detail)),
          external: cfg.train.external ? { command: cfg.train.external.command, timeoutMs: cfg.train.external.timeout_seconds * 1000 } : undefined,
        });
        result.metrics = numericMetrics(trained.metrics);
        step('evaluate', `onnxruntime on ${trained.splits.test} test rows: AUC ${fmt(trained.metrics.auc)}, log loss ${fmt(trained.metrics.log_loss)}`, evaluateMark);

        // 7. validate against production on the same test split.
        let baseline: { version: string; auc: number } | null = null;
        if (production) {
          const pm = numericMetrics(await scoreVersion(wt.root, model, production, trained.testRecords));
          result.production = { version: production.version, metrics: pm };
          baseline = { version: production.version, auc: pm.auc ?? 0 };
        }
        // An undefined AUC (one class in the test split) cannot pass.
        result.validation = validate({ auc: trained.metrics.auc ?? Number.NaN, threshold: cfg.retrain.validation_threshold, maxRegression: cfg.retrain.max_regression, baseline });
        step('validate', result.validation.passed ? `passed (threshold ${cfg.retrain.validation_threshold}${baseline ? `, production ${baseline.version} AUC ${baseline.auc.toFixed(4)}` : ''})` : `FAILED: ${result.validation.reasons.join('; ')}`);
        if (!result.validation.passed) {
          result.reason = result.validation.reasons.join('; ');
          return false;
        }

        // 8. register (commit 2), with the validation record in the manifest.
        const registered = await registerVersion(wt, {
          model,
          artifact: trained.files.model,
          sidecars: [trained.files.features],
          dataset: cfg.dataset,
          schema: modelDoc.schema_version,
          metrics: result.metrics,
          training: { trainer: trained.trainer, params: trained.params, seed: trained.seed, tool_version: TOOL_VERSION },
          validation: {
            baseline: baseline?.version ?? null,
            baseline_metrics: result.production?.metrics ?? null,
            threshold: cfg.retrain.validation_threshold,
            max_regression: cfg.retrain.max_regression,
            passed: true,
          } satisfies ManifestDoc['validation'],
          message: `Weekly retrain on ${trained.dataset.rows} rows.`,
        });
        result.version = registered.version;
        step('register', `${model}@${registered.version} (artifact sha256 ${trained.artifact.sha256.slice(0, 16)}…, ${trained.artifact.bytes} bytes)`);

        // 9. deploy (commit 3): the canary, or production for a model's first version.
        if (production && cfg.canary.enabled) {
          await canaryStart(wt, { model, version: registered.version, weight: cfg.canary.steps[0] ?? cfg.canary.percentage });
          result.deploy = 'canary';
        } else {
          await promote(wt, { model, version: registered.version, force: true, reason: production ? 'canary disabled in the configuration' : 'first version of the model' });
          result.deploy = 'production';
        }
        step('deploy', result.deploy === 'canary' ? `merging starts a ${Math.round((cfg.canary.steps[0] ?? cfg.canary.percentage) * 100)}% canary against ${production!.version}` : 'merging puts it in production (first version)');
        return true;
      },
      { keep: (ok) => ok && !opts.dryRun },
    );
    result.commits = run.commits;
    if (!run.result) {
      if (result.status === 'skipped') return result;
      throw new MlopsError('VALIDATION_FAILED', `the retrained model of ${model} failed validation: ${result.reason}`, {
        hint: 'Nothing was registered. Look at the data (drift, labels) or the trainer parameters; the comparison is in --json.',
        data: { validation: result.validation, metrics: result.metrics, production: result.production },
      });
    }
    if (opts.dryRun) {
      result.status = 'dry-run';
      return result;
    }

    // 10. push the branch and open or update the one pull request.
    const forge = opts.forge ?? (await (await import('../forge/create-forge.js')).createForge({ config: cfg.forge, repo: ctx.repo, env }));
    await forge.pushBranch(ctx.repo, branch, { force: true });
    const pr = await forge.ensurePullRequest({
      title: `mlops(${model}): retrain ${result.version}`,
      body: pullRequestBody(result),
      head: branch,
      base: cfg.forge.base,
      labels: cfg.forge.labels,
    });
    result.pullRequest = pr;
    result.status = pr.action;
    step('pull-request', `${pr.action} #${pr.number} ${pr.url}`);
    await notify(ctx, opts, env, forge, model, 'recovered', null);
    return result;
  } catch (e) {
    if (!opts.dryRun) await notify(ctx, opts, env, opts.forge ?? null, model, 'retrain-failed', e);
    throw e;
  }
}

async function notify(ctx: Context, opts: RetrainOptions, env: NodeJS.ProcessEnv, forge: Forge | null, model: string, kind: 'retrain-failed' | 'recovered', error: unknown): Promise<void> {
  try {
    const f = forge ?? (await (await import('../forge/create-forge.js')).createForge({ config: ctx.config.forge, repo: ctx.repo, env }));
    const notifiers = opts.notifiers ?? (await import('../alerts/create-notifiers.js')).createNotifiers(ctx.config.alerts, { env, forge: f, stdout: opts.stdout ?? process.stderr });
    const { fileAlertState, issueAlertState } = await import('../alerts/state.js');
    const state = opts.alertState ?? (env.GITHUB_ACTIONS === 'true' && f.kind === 'github' ? issueAlertState(f) : fileAlertState(join(ctx.root, '.mlops', 'alerts-state.json')));
    const { sendAlert } = await import('../alerts/send-alert.js');
    const incident = `retrain:${model}`;
    if (kind === 'recovered' && !(await state.get(incident))) return;
    const message = error instanceof Error ? error.message : String(error ?? '');
    await sendAlert(notifiers, {
      kind,
      model,
      incident,
      title: kind === 'recovered' ? `Retrain of ${model} works again` : `Retrain of ${model} failed`,
      text: kind === 'recovered' ? 'The weekly retrain opened its pull request.' : `${isMlopsError(error) ? `[${error.code}] ` : ''}${message}`,
      fields: {},
      severity: kind === 'recovered' ? 'info' : 'warning',
    }, { state, now: ctx.now() });
  } catch {
    // An alert that cannot be sent must not hide the retrain's own outcome.
  }
}

function fmt(v: number | null | undefined): string {
  return typeof v === 'number' ? v.toFixed(4) : '–';
}

/** The PR body: metrics against production, the dataset change, hashes. Deterministic, so a re-run with the same data leaves it unchanged. */
export function pullRequestBody(r: RetrainResult): string {
  const m = r.metrics ?? {};
  const p = r.production?.metrics ?? null;
  const keys = METRIC_ORDER.filter((k) => k in m);
  const rows = keys.map((k) => {
    const delta = p && typeof p[k] === 'number' && typeof m[k] === 'number' ? (m[k]! - p[k]!) : null;
    return `| ${k} | ${fmt(m[k])} | ${p ? fmt(p[k]) : '–'} | ${delta === null ? '–' : `${delta >= 0 ? '+' : ''}${delta.toFixed(4)}`} |`;
  });
  const c = r.collect;
  const lines = [
    `<!-- mlops-retrain: ${r.model} -->`,
    `Weekly retrain of **${r.model}**: **${r.version}**.`,
    '',
    r.deploy === 'canary'
      ? `Merging this pull request starts a canary of ${r.version} against production ${r.production?.version}; \`mlops canary check\` then promotes or rolls it back. Closing it discards the retrain.`
      : `This is the model's first version: merging puts ${r.version} straight into production.`,
    '',
    '### Test metrics (onnxruntime, same test split)',
    '',
    `| metric | ${r.version} | ${r.production ? `production ${r.production.version}` : 'production'} | change |`,
    '|---|---|---|---|',
    ...rows,
    '',
    `Validation: ${r.validation?.passed ? 'passed' : 'failed'} (AUC ≥ ${r.validation?.threshold}${r.validation?.baseline ? `, at most ${r.validation.max_regression} below production` : ''}).`,
    '',
    '### Data',
    '',
    `- new outcomes sealed: ${c?.newRows ?? 0}${c?.shard ? ` in \`${c.shard.path}\` (sha256 \`${c.shard.sha256}\`)` : ''}`,
    `- merged training set: ${c?.merged.rows ?? '?'} rows, sha256 \`${c?.merged.sha256 ?? '?'}\``,
    `- samples since the production version: ${r.newSamples}`,
    ...(c && Object.values(c.dropped).some((n) => n > 0) ? [`- dropped: ${Object.entries(c.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')}`] : []),
  ];
  return lines.join('\n') + '\n';
}
