// Use case: rollback is `git revert` (SPEC 3.7, 3.8). Find the commit that put the bad version
// where it is, revert it (or write the equivalent forward commit when the revert does not apply
// or would undo more than the move), then deprecate the bad version in a second commit.
import { MlopsError } from '../errors.js';
import { lastMoveInto } from '../registry/history.js';
import { describePlan } from '../registry/plan.js';
import { deploymentsFile } from '../registry/paths.js';
import { planRollback, planRollbackFollowUp, type DecisionRecord, type RollbackTarget } from '../registry/plans.js';
import { applyPlan, assertPointersValid, assertWritable, isoSeconds, loadModelState, type Applied, type Context } from './context.js';
import { readHistory } from './history.js';

export interface RollbackOptions {
  model: string;
  /** Which pointer to roll back; default: the canary when one runs, else production. */
  stage?: 'production' | 'canary';
  /** Only roll back if this is the version in that stage (library: rollbackToPrevious(version)). */
  version?: string;
  reason?: string;
  keepActive?: boolean;
  decision?: DecisionRecord;
  dryRun?: boolean;
}

export interface RollbackResult {
  model: string;
  stage: 'production' | 'canary';
  version: string;
  restored: string | null;
  reverted: string;
  plan: Record<string, unknown>;
  applied: Applied | null;
  followUp: { plan: Record<string, unknown>; applied: Applied | null } | null;
}

export async function findRollbackTarget(ctx: Context, opts: Pick<RollbackOptions, 'model' | 'stage' | 'version'>): Promise<RollbackTarget> {
  const state = await loadModelState(ctx, opts.model);
  const d = state.deployments;
  let stage = opts.stage;
  if (!stage && opts.version) stage = d.canary?.version === opts.version ? 'canary' : d.production === opts.version ? 'production' : undefined;
  stage ??= d.canary ? 'canary' : 'production';
  const version = stage === 'canary' ? d.canary?.version : d.production;
  if (!version) {
    throw new MlopsError(stage === 'canary' ? 'CANARY_NOT_RUNNING' : 'NO_PRODUCTION', `${opts.model} has no ${stage} version to roll back`, {
      hint: stage === 'canary' ? 'Nothing is in canary.' : 'Nothing is in production.',
    });
  }
  if (opts.version && opts.version !== version) {
    throw new MlopsError('VERSION_NOT_ACTIVE', `${opts.model}@${opts.version} is not the ${stage} version (${version} is)`, {
      hint: `Roll back the serving version: \`mlops rollback ${opts.model} --stage ${stage}\`.`,
    });
  }
  const moves = await readHistory(ctx, opts.model);
  const move = lastMoveInto(moves, stage, version);
  if (!move) {
    throw new MlopsError('NO_ROLLBACK_TARGET', `no commit in the history of ${deploymentsFile(opts.model)} put ${version} into ${stage}`, {
      hint: 'The pointer was never committed; fix deployments.yaml by hand and commit it.',
    });
  }
  // A revert undoes exactly the move only when the commit changed nothing but the pointers
  // (a squash-merged retrain PR also added the version, which must stay).
  const parents = (await ctx.repo.runOk(['rev-list', '--parents', '-n', '1', move.commit])).trim().split(' ').length - 1;
  const touched = parents === 1 ? (await ctx.repo.runOk(['diff-tree', '--no-commit-id', '--name-only', '-r', move.commit])).split('\n').filter(Boolean) : [];
  const revertable = touched.length === 1 && touched[0] === deploymentsFile(opts.model) && move.valid;
  return {
    stage,
    version,
    commit: move.commit,
    subject: move.subject,
    revertable,
    restore: stage === 'production' ? move.production!.from : null,
  };
}

export async function rollback(ctx: Context, opts: RollbackOptions): Promise<RollbackResult> {
  await assertWritable(ctx);
  const target = await findRollbackTarget(ctx, opts);
  const reason = opts.reason?.trim() || `rolled back from ${target.stage}`;
  const state = await loadModelState(ctx, opts.model);
  assertPointersValid(state);
  const plan = planRollback(state, target, { reason: opts.reason });
  if (opts.dryRun) {
    return { model: opts.model, stage: target.stage, version: target.version, restored: plan.previous, reverted: target.commit, plan: describePlan(plan), applied: null, followUp: null };
  }
  const applied = await applyPlan(ctx, plan);
  const after = await loadModelState(ctx, opts.model);
  const follow = planRollbackFollowUp(after, { version: target.version, reason, keepActive: opts.keepActive, decision: opts.decision }, isoSeconds(ctx.now()));
  const followApplied = follow ? await applyPlan(ctx, follow) : null;
  return {
    model: opts.model,
    stage: target.stage,
    version: target.version,
    restored: plan.previous,
    reverted: target.commit,
    plan: describePlan(plan),
    applied,
    followUp: follow ? { plan: describePlan(follow), applied: followApplied } : null,
  };
}
