// Use cases that are one planned commit each: canary start / weight / abort, promote,
// deprecate, archive, and the runtime metrics snapshot.
import { describePlan, type Plan } from '../registry/plan.js';
import {
  planArchive,
  planCanaryAbort,
  planCanaryStart,
  planCanaryWeight,
  planDeprecate,
  planMetrics,
  planPromote,
  type DecisionRecord,
} from '../registry/plans.js';
import type { ModelState } from '../registry/types.js';
import { applyPlan, assertArtifactIntact, assertPointersValid, assertWritable, isoSeconds, loadModelState, type Applied, type Context } from './context.js';

export interface OpResult {
  plan: Record<string, unknown>;
  applied: Applied | null;
}

async function runPlanned(ctx: Context, model: string, planner: (state: ModelState, now: string) => Plan, dryRun?: boolean, serving?: string): Promise<OpResult> {
  await assertWritable(ctx);
  const head = await ctx.repo.headOrNull();
  const state = await loadModelState(ctx, model);
  assertPointersValid(state);
  const plan = planner(state, isoSeconds(ctx.now()));
  // A version about to serve traffic must be exactly what was registered.
  if (serving) await assertArtifactIntact(ctx, state, serving);
  const applied = dryRun ? null : await applyPlan(ctx, plan, { expectedHead: head });
  return { plan: describePlan(plan), applied };
}

export const canaryStart = (ctx: Context, o: { model: string; version: string; weight?: number; dryRun?: boolean }) =>
  runPlanned(ctx, o.model, (s, now) => planCanaryStart(s, { version: o.version, weight: o.weight ?? ctx.config.canary.steps[0] ?? ctx.config.canary.percentage }, now), o.dryRun, o.version);

export const canaryWeight = (ctx: Context, o: { model: string; weight: number; decision?: DecisionRecord; dryRun?: boolean }) =>
  runPlanned(ctx, o.model, (s) => planCanaryWeight(s, { weight: o.weight, decision: o.decision }), o.dryRun);

export const canaryAbort = (ctx: Context, o: { model: string; reason?: string; decision?: DecisionRecord; dryRun?: boolean }) =>
  runPlanned(ctx, o.model, (s) => planCanaryAbort(s, { reason: o.reason, decision: o.decision }), o.dryRun);

export const promote = (ctx: Context, o: { model: string; version: string; force?: boolean; decision?: DecisionRecord; reason?: string; dryRun?: boolean }) =>
  runPlanned(ctx, o.model, (s) => planPromote(s, o), o.dryRun, o.version);

export const deprecate = (ctx: Context, o: { model: string; version: string; reason: string; dryRun?: boolean }) =>
  runPlanned(ctx, o.model, (s, now) => planDeprecate(s, o, now), o.dryRun);

export const archive = (ctx: Context, o: { model: string; version: string; reason?: string; prune?: boolean; dryRun?: boolean }) =>
  runPlanned(ctx, o.model, (s, now) => planArchive(s, o, now), o.dryRun);

export const updateMetrics = (ctx: Context, o: { model: string; version: string; metrics: Record<string, unknown>; dryRun?: boolean }) =>
  runPlanned(ctx, o.model, (s, now) => planMetrics(s, o, now), o.dryRun);
