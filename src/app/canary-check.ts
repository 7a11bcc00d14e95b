// Use cases: `mlops canary analyze` (the verdict, changes nothing) and `mlops canary check`
// (the verdict, then the act: roll back by git revert, promote by PR or commit, step the
// weight, hold and alert). Both read the stream counts from the configured metric source and
// decide with the same pure decideCanary (SPEC 6.5).
import { join } from 'node:path';
import { MlopsError, isMlopsError } from '../errors.js';
import { decideCanary, type CanaryMethod, type CanaryVerdict } from '../canary/decide.js';
import { STREAM_NAMES, type StreamCounts } from '../canary/sprt.js';
import type { OutcomeAggregate } from '../canary/aggregate.js';
import { metricSourceFromConfig } from '../metrics/from-config.js';
import { planPromote, planCanaryWeight, type DecisionRecord } from '../registry/plans.js';
import { describePlan } from '../registry/plan.js';
import type { Alert, AlertKind } from '../alerts/types.js';
import type { AlertReport } from '../alerts/send-alert.js';
import type { AlertStateStore } from '../alerts/state.js';
import type { Forge } from '../forge/types.js';
import type { Notifier } from '../alerts/types.js';
import { applyPlan, assertPointersValid, assertWritable, isoSeconds, loadModelState, resolveModelName, type Applied, type Context } from './context.js';
import { withBranchWorktree } from './worktree.js';
import { readHistory } from './history.js';
import { rollback, type RollbackResult } from './rollback.js';

export interface CanaryAnalysis {
  model: string;
  version: string;
  production: string | null;
  weight: number;
  /** deployments.canary.started_at: when the canary was planned (a retrain PR sets it when opened). */
  started_at: string;
  /** When the window really started: started_at, or later when the pointer landed on this branch later (a PR merged days after it was opened). */
  effective_started_at: string;
  source: 'outcomes' | 'prometheus';
  verdict: CanaryVerdict;
  /** The production version's counts over the same window, for comparison. */
  production_streams: StreamCounts | null;
  warnings: string[];
  approximate: boolean;
  /** Outcome store only: the hourly buckets behind the dashboard's charts (left out of --json). */
  aggregate?: OutcomeAggregate;
}

/** The verdict of the running canary of `model` as of `at` (default now). Changes nothing. */
/**
 * `compare` (default true) also counts the production version over the same window, for people
 * and the dashboard; the decision does not need it, and it makes the outcome-store read parse
 * every line instead of only the canary's (about twice the time on a large store).
 */
export async function analyzeCanary(ctx: Context, opts: { model?: string; at?: Date; method?: CanaryMethod; compare?: boolean } = {}): Promise<CanaryAnalysis> {
  const model = resolveModelName(ctx, opts.model);
  const state = await loadModelState(ctx, model);
  const canary = state.deployments.canary;
  if (!canary) {
    throw new MlopsError('CANARY_NOT_RUNNING', `no canary of ${model} is running`, { hint: `Start one with \`mlops canary start ${model}@<version>\`.` });
  }
  const at = opts.at ?? ctx.now();
  const startedAt = await effectiveStart(ctx, model, canary.version, canary.started_at);
  const source = metricSourceFromConfig({ source: ctx.config.canary.source, dir: ctx.root });
  const result = await source.streams({
    model,
    version: canary.version,
    production: opts.compare === false ? null : state.deployments.production,
    startedAt,
    at,
    thresholds: { canary: ctx.config.canary.thresholds, rollback: ctx.config.rollback.thresholds },
    quantile: ctx.config.canary.latency_quantile,
  });
  const counts: StreamCounts = { S: result.S, E: result.E, Lup: result.Lup, Ldown: result.Ldown };
  const verdict = decideCanary(counts, ctx.config, { now: at, startedAt, method: opts.method });
  return {
    model,
    version: canary.version,
    production: state.deployments.production,
    weight: canary.weight,
    started_at: canary.started_at,
    effective_started_at: startedAt,
    source: result.source,
    verdict,
    production_streams: result.production ?? null,
    warnings: result.warnings,
    approximate: !!result.approximate,
    aggregate: result.aggregate,
  };
}

/**
 * When the canary's window starts: its started_at, unless the commit that put it on this branch
 * (first-parent: the merge of the retrain PR) landed later; then that commit's time, so review
 * latency never eats into the observation window.
 */
export async function effectiveStart(ctx: Context, model: string, version: string, startedAt: string): Promise<string> {
  const moves = await readHistory(ctx, model, { firstParent: true, limit: 200 });
  const landed = moves.find((m) => m.canary?.to === version);
  if (!landed) return startedAt;
  const t = Date.parse(landed.committed_at);
  return Number.isFinite(t) && t > Date.parse(startedAt) ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : startedAt;
}

/** The decision record written into the manifest's `observed.decisions` with the act. */
export function decisionRecord(a: CanaryAnalysis, action: string): DecisionRecord {
  const streams: Record<string, { n: number; k: number; llr: number }> = {};
  for (const s of STREAM_NAMES) {
    const v = a.verdict.streams[s];
    streams[s] = { n: v.n, k: v.k, llr: Number(v.llr.toFixed(4)) };
  }
  return {
    at: a.verdict.at,
    verdict: a.verdict.verdict,
    action,
    method: a.verdict.method,
    source: a.source,
    weight: a.weight,
    elapsed_hours: Number(a.verdict.elapsed_hours.toFixed(2)),
    streams,
    reasons: a.verdict.reasons,
  };
}

export type CheckAction = 'none' | 'rollback' | 'rollback-pr' | 'promote' | 'promote-pr' | 'weight' | 'hold' | 'source-failed';

export interface CheckResult {
  model: string;
  version: string | null;
  action: CheckAction;
  analysis: CanaryAnalysis | null;
  /** What was committed (base branch or PR branch). */
  commits: string[];
  rollback?: RollbackResult;
  pullRequest?: { number: number; url: string; action: string; branch: string };
  pushed: boolean;
  alerts: AlertReport[];
  error?: { code: string; message: string };
  dryRun: boolean;
}

export interface CheckOptions {
  model?: string;
  at?: Date;
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Injected in tests; built from the configuration otherwise. */
  forge?: Forge;
  notifiers?: Notifier[];
  alertState?: AlertStateStore;
  /** Where the job summary notifier writes when $GITHUB_STEP_SUMMARY is unset. */
  stdout?: { write(s: string): unknown };
}

/** Consecutive metric-source failures before they are alerted (one blip is not an incident). */
export const SOURCE_FAILURES_BEFORE_ALERT = 4;

/** The weight the step schedule wants at `elapsedHours`: steps spread evenly over the window. */
export function scheduledWeight(steps: number[], durationHours: number, elapsedHours: number): number {
  const i = Math.min(steps.length - 1, Math.max(0, Math.floor((elapsedHours / durationHours) * steps.length)));
  return steps[i]!;
}

function streamFields(a: CanaryAnalysis): Record<string, string | number> {
  const f: Record<string, string | number> = { verdict: a.verdict.verdict, method: a.verdict.method, 'elapsed hours': Number(a.verdict.elapsed_hours.toFixed(1)) };
  for (const s of STREAM_NAMES) {
    const v = a.verdict.streams[s];
    f[`${s} n/k`] = `${v.n}/${v.k}`;
    f[`${s} Λ`] = Number(v.llr.toFixed(3));
  }
  return f;
}

export async function checkCanary(ctx: Context, opts: CheckOptions = {}): Promise<CheckResult> {
  const model = resolveModelName(ctx, opts.model);
  const env = opts.env ?? process.env;
  const base: CheckResult = { model, version: null, action: 'none', analysis: null, commits: [], pushed: false, alerts: [], dryRun: !!opts.dryRun };
  const state = await loadModelState(ctx, model);
  assertPointersValid(state);
  if (!state.deployments.canary) return base;
  const version = state.deployments.canary.version;
  base.version = version;
  const incident = `canary:${model}@${version}`;
  const sourceIncident = `source:${model}`;

  const services = opts.dryRun ? null : await alertServices(ctx, opts, env);
  const send = async (kind: AlertKind, alert: Omit<Alert, 'kind' | 'model' | 'version' | 'incident'>, key = incident) => {
    if (!services) return;
    const { sendAlert } = await import('../alerts/send-alert.js');
    try {
      base.alerts.push(await sendAlert(services.notifiers, { kind, model, version, incident: key, ...alert }, { state: services.state, now: ctx.now() }));
    } catch (e) {
      // An alert that cannot be delivered must not undo the act; it is reported.
      base.error = { code: isMlopsError(e) ? e.code : 'ALERT_FAILED', message: (e as Error).message };
    }
  };

  let analysis: CanaryAnalysis;
  try {
    analysis = await analyzeCanary(ctx, { model, at: opts.at, compare: false });
  } catch (e) {
    if (!isMlopsError(e) || e.code !== 'METRICS_SOURCE_FAILED') throw e;
    // Hold: never act on missing data. Alert once the failures are consecutive enough.
    base.action = 'source-failed';
    base.error = { code: e.code, message: e.message };
    if (services) {
      const prev = await services.state.get(sourceIncident).catch(() => null);
      const failures = (prev?.kinds['source-failed']?.count ?? 0) + 1;
      if (failures >= SOURCE_FAILURES_BEFORE_ALERT) {
        await send('source-failed', { title: `Canary metrics of ${model} unavailable`, text: `The metric source failed ${failures} checks in a row: ${e.message}. The canary of ${version} is held (no promotion, no rollback) until it answers.`, fields: { failures }, severity: 'warning' }, sourceIncident);
      } else {
        const now = isoSeconds(ctx.now());
        await services.state.set(sourceIncident, {
          incident: sourceIncident, model, opened_at: prev?.opened_at ?? now,
          kinds: { 'source-failed': { first_at: prev?.kinds['source-failed']?.first_at ?? now, last_at: now, count: failures, delivered: [] } },
        }).catch(() => undefined);
      }
    }
    return base;
  }
  base.analysis = analysis;
  if (services) {
    const open = await services.state.get(sourceIncident).catch(() => null);
    if (open?.kinds['source-failed']?.delivered.length) await send('recovered', { title: `Canary metrics of ${model} are back`, text: 'The metric source answers again.', fields: {}, severity: 'info' }, sourceIncident);
    else if (open) await services.state.set(sourceIncident, null).catch(() => undefined);
  }

  const v = analysis.verdict;
  const cfg = ctx.config;
  const reason = `canary ${v.verdict}: ${v.reasons.join('; ')}`;
  if (v.verdict === 'rollback') {
    if (!cfg.rollback.auto_rollback) {
      base.action = 'hold';
      await send('rollback', { title: `Canary ${model}@${version} should be rolled back`, text: `The sequential test says roll back (${v.reasons.join('; ')}); auto_rollback is off, so nothing was changed.`, fields: streamFields(analysis), severity: 'critical' });
      return base;
    }
    if (opts.dryRun) return { ...base, action: cfg.rollback.mode === 'pr' ? 'rollback-pr' : 'rollback' };
    const decision = decisionRecord(analysis, 'rollback');
    if (cfg.rollback.mode === 'pr') {
      const pr = await withBranchWorktree(ctx, `mlops/rollback/${model}`, (wt) => rollback(wt, { model, stage: 'canary', reason, decision }));
      base.action = 'rollback-pr';
      base.rollback = pr.result;
      base.commits = pr.commits;
      base.pullRequest = await openPr(ctx, services!.forge, pr.branch, `Roll back canary ${model}@${version}`, rollbackBody(analysis), ['mlops', 'rollback']);
      base.pushed = true;
    } else {
      await assertWritable(ctx);
      const r = await rollback(ctx, { model, stage: 'canary', reason, decision });
      base.action = 'rollback';
      base.rollback = r;
      base.commits = [r.applied?.commit, r.followUp?.applied?.commit].filter((c): c is string => !!c);
      base.pushed = await pushBase(ctx, services!.forge);
    }
    await send('rollback', {
      title: `Canary ${model}@${version} rolled back`,
      text: `${v.reasons.join('; ')}.\n\nRolled back by ${base.action === 'rollback-pr' ? `a pull request (${base.pullRequest?.url})` : `\`git revert\` (${base.commits[0]?.slice(0, 12)})`}; ${version} is deprecated.`,
      fields: streamFields(analysis),
      severity: 'critical',
      url: base.pullRequest?.url,
    });
    return base;
  }

  if (v.verdict === 'promote') {
    if (opts.dryRun) return { ...base, action: cfg.canary.auto_promote ? 'promote' : 'promote-pr' };
    const decision = decisionRecord(analysis, 'promote');
    if (cfg.canary.auto_promote) {
      await assertWritable(ctx);
      const plan = planPromote(state, { version, decision, reason });
      const applied = await applyPlan(ctx, plan);
      base.action = 'promote';
      base.commits = [applied.commit];
      base.pushed = await pushBase(ctx, services!.forge);
    } else {
      const branch = `mlops/promote/${model}`;
      const plan = planPromote(state, { version, decision, reason });
      const head = (await ctx.repo.resolveRef(`refs/heads/${ctx.config.forge.base}`)) ?? (await ctx.repo.headOrNull());
      if (!head) throw new MlopsError('INTERNAL', 'no base commit to branch from');
      const old = await ctx.repo.resolveRef(`refs/heads/${branch}`);
      const commit = await ctx.repo.commitToBranch({ branch, parent: head, edits: plan.edits, message: plan.message, expectedOld: old });
      base.action = 'promote-pr';
      base.commits = [commit];
      base.pullRequest = await openPr(ctx, services!.forge, branch, `Promote ${model}@${version} to production`, promotionBody(analysis, describePlan(plan)), ['mlops', 'promotion']);
      base.pushed = true;
    }
    await send('promotion', {
      title: `Canary ${model}@${version} passed`,
      text: base.action === 'promote' ? `Promoted to production (${base.commits[0]?.slice(0, 12)}).` : `Promotion pull request: ${base.pullRequest?.url}.`,
      fields: streamFields(analysis),
      severity: 'info',
      url: base.pullRequest?.url,
    });
    return base;
  }

  if (v.verdict === 'inconclusive') {
    base.action = 'hold';
    await send('inconclusive', {
      title: `Canary ${model}@${version} is inconclusive`,
      text: `The ${v.window_hours} h window has passed without enough evidence either way (${v.reasons.join('; ')}). The canary is held at ${analysis.weight * 100}%: promote or abort it by hand, or let it gather more traffic.`,
      fields: streamFields(analysis),
      severity: 'warning',
    });
    return base;
  }

  // continue: step the weight when the schedule says so and nothing looks bad.
  const due = scheduledWeight(cfg.canary.steps, cfg.canary.duration_hours, v.elapsed_hours);
  const anyBad = STREAM_NAMES.some((s) => v.streams[s].state === 'bad');
  if (cfg.canary.steps.length > 1 && due > analysis.weight && !anyBad) {
    if (opts.dryRun) return { ...base, action: 'weight' };
    await assertWritable(ctx);
    const applied: Applied = await applyPlan(ctx, planCanaryWeight(state, { weight: due, decision: decisionRecord(analysis, `weight ${due}`) }));
    base.action = 'weight';
    base.commits = [applied.commit];
    base.pushed = await pushBase(ctx, services!.forge);
  }
  return base;
}

async function alertServices(ctx: Context, opts: CheckOptions, env: NodeJS.ProcessEnv) {
  const forge = opts.forge ?? (await (await import('../forge/create-forge.js')).createForge({ config: ctx.config.forge, repo: ctx.repo, env }));
  const notifiers = opts.notifiers ?? (await import('../alerts/create-notifiers.js')).createNotifiers(ctx.config.alerts, { env, forge, stdout: opts.stdout ?? process.stderr });
  const { fileAlertState, issueAlertState } = await import('../alerts/state.js');
  const state = opts.alertState ?? (env.GITHUB_ACTIONS === 'true' && forge.kind === 'github' ? issueAlertState(forge) : fileAlertState(join(ctx.root, '.mlops', 'alerts-state.json')));
  return { forge, notifiers, state };
}

/** Pushes the base branch when the repository has the forge's remote (CI); a no-op otherwise. */
async function pushBase(ctx: Context, forge: Forge): Promise<boolean> {
  const branch = await ctx.repo.currentBranch();
  if (!branch) return false;
  return (await forge.pushBranch(ctx.repo, branch)).pushed;
}

async function openPr(ctx: Context, forge: Forge, branch: string, title: string, body: string, labels: string[]) {
  await forge.pushBranch(ctx.repo, branch, { force: true });
  const pr = await forge.ensurePullRequest({ title, body, head: branch, base: ctx.config.forge.base, labels });
  return { ...pr, branch };
}

function table(a: CanaryAnalysis): string {
  const rows = STREAM_NAMES.map((s) => {
    const v = a.verdict.streams[s];
    return `| ${s} | ${v.n} | ${v.k} | ${v.rate === null ? '-' : (v.rate * 100).toFixed(2) + '%'} | ${v.llr.toFixed(3)} | ${v.promote_bound?.toFixed(3) ?? '-'} | ${v.rollback_bound?.toFixed(3) ?? '-'} | ${v.state} |`;
  });
  return ['| stream | n | k | rate | Λ | promote ≤ | rollback ≥ | state |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

function rollbackBody(a: CanaryAnalysis): string {
  return `The canary of **${a.model}@${a.version}** (weight ${a.weight}, started ${a.started_at}) failed the sequential test:\n\n${a.verdict.reasons.map((r) => `- ${r}`).join('\n')}\n\n${table(a)}\n\nMerging reverts the canary start and deprecates ${a.version}.\n`;
}

function promotionBody(a: CanaryAnalysis, plan: Record<string, unknown>): string {
  return `The canary of **${a.model}@${a.version}** passed after ${a.verdict.elapsed_hours.toFixed(1)} h (${a.source}):\n\n${a.verdict.reasons.map((r) => `- ${r}`).join('\n')}\n\n${table(a)}\n\nMerging moves production from ${a.production ?? 'nothing'} to ${a.version} (\`${String(plan.summary)}\`).\n`;
}
