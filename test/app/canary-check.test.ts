import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, registryRepo, registerFake, readDeployments } from '../helpers/registry.js';
import { openContext } from '../../src/app/context.js';
import { canaryStart } from '../../src/app/stage-ops.js';
import { checkCanary, analyzeCanary, scheduledWeight, SOURCE_FAILURES_BEFORE_ALERT } from '../../src/app/canary-check.js';
import { getFeedbackCollector } from '../../src/data/collector.js';
import { memoryAlertState } from '../../src/alerts/state.js';
import { LocalForge } from '../../src/forge/local.js';
import type { Alert, Notifier } from '../../src/alerts/types.js';

const M = 'backlink-success';
const T0 = Date.parse('2026-11-29T00:00:00Z');
const hours = (h: number) => new Date(T0 + h * 3_600_000);

/** Production v1.0.0, canary v1.1.0 started at T0; config overrides merged in. */
async function canaryRepo(config: Record<string, unknown> = {}) {
  const t = registryRepo({ config });
  await registerFake(t.dir, { seed: 'a' });
  await cli(t.dir, 'promote', `${M}@v1.0.0`);
  await registerFake(t.dir, { seed: 'b', dataset: 'mlops.config.json' });
  const ctx = await openContext({ dir: t.dir, now: () => hours(0) });
  await canaryStart(ctx, { model: M, version: 'v1.1.0', weight: 0.1 });
  return t;
}

/** n outcomes of the canary spread over [from, to) hours, the first `errors` of them errors. */
async function outcomes(dir: string, version: string, n: number, errors: number, from = 0.1, to = 1) {
  const c = getFeedbackCollector({ dir });
  const records = Array.from({ length: n }, (_, i) => ({
    task_id: `${version}-${from}-${i}`,
    domain: `d${i}.example`,
    action_attempted: 'blog_comment',
    result: i < errors ? 'error' : 'success',
    model: M,
    model_version: version,
    response_time_ms: 5,
    timestamp: new Date(T0 + (from + ((to - from) * i) / n) * 3_600_000).toISOString(),
  }));
  await c.appendOutcomes(records);
  await c.close();
}

function recorder(): Notifier & { sent: Alert[] } {
  const sent: Alert[] = [];
  return { id: 'recorder', sent, notify: async (a) => { sent.push(a); return { notifier: 'recorder', status: 'sent' }; } };
}

async function check(dir: string, at: Date, extra: Partial<Parameters<typeof checkCanary>[1]> = {}) {
  const ctx = await openContext({ dir, now: () => at });
  return checkCanary(ctx, { at, env: {}, ...extra });
}

describe('canary check acts on the verdict', () => {
  it('rolls back a bad canary with a real git revert, records the decision, alerts once', async () => {
    const t = await canaryRepo();
    const start = t.git('log', '-1', '--format=%H').trim();
    await outcomes(t.dir, 'v1.1.0', 200, 40); // 20% errors vs the 10% rollback bound
    const n = recorder();
    const state = memoryAlertState();
    const r = await check(t.dir, hours(2), { notifiers: [n], alertState: state, forge: new LocalForge({ repo: (await openContext({ dir: t.dir })).repo }) });
    expect(r.action).toBe('rollback');
    expect(r.analysis!.verdict.verdict).toBe('rollback');
    expect(r.analysis!.verdict.streams.E).toMatchObject({ n: 200, k: 40 });
    expect(r.rollback!.applied!.how).toBe('revert');
    expect(t.git('log', '-1', '--format=%B', 'HEAD~1')).toContain(`This reverts commit ${start}.`);
    expect(readDeployments(t.dir)).toContain('canary: null');
    const v = (await cli(t.dir, 'show', `${M}@v1.1.0`, '--json')).json();
    expect(v.manifest.lifecycle.state).toBe('deprecated');
    expect(v.manifest.observed.decisions[0]).toMatchObject({ verdict: 'rollback', action: 'rollback', streams: { E: { n: 200, k: 40 } } });
    expect(n.sent.map((a) => [a.kind, a.incident])).toEqual([['rollback', `canary:${M}@v1.1.0`]]);
    expect((await cli(t.dir, 'verify')).code).toBe(0);
    // the next hourly run finds no canary and does nothing
    expect((await check(t.dir, hours(3), { notifiers: [n], alertState: state })).action).toBe('none');
  });

  it('with rollback.mode pr, opens a rollback PR and leaves the base branch alone', async () => {
    const t = await canaryRepo({ rollback: { mode: 'pr' } });
    await outcomes(t.dir, 'v1.1.0', 200, 40);
    const head = t.head();
    const forge = new LocalForge({ repo: (await openContext({ dir: t.dir })).repo });
    const r = await check(t.dir, hours(2), { notifiers: [], alertState: memoryAlertState(), forge });
    expect(r.action).toBe('rollback-pr');
    expect(t.head()).toBe(head);
    expect(t.status()).toBe('');
    expect(r.commits).toHaveLength(2); // the revert and the deprecation, on the PR branch
    expect(t.git('log', '-1', '--format=%s', `mlops/rollback/${M}~1`).trim()).toBe(`Revert "mlops(${M}): canary-start v1.1.0"`);
    expect(t.git('worktree', 'list').trim().split('\n')).toHaveLength(1); // the temporary worktree is gone
    await forge.mergePullRequest(`mlops/rollback/${M}`);
    expect(readDeployments(t.dir)).toContain('canary: null');
  });

  it('never rolls back a canary with no traffic; holds and alerts once when the window ends', async () => {
    const t = await canaryRepo();
    const head = t.head();
    const n = recorder();
    const state = memoryAlertState();
    for (const h of [1, 5, 12, 23]) {
      const r = await check(t.dir, hours(h), { notifiers: [n], alertState: state });
      expect(r.action).toBe('none');
      expect(r.analysis!.verdict.verdict).toBe('continue');
    }
    for (const h of [25, 26, 27]) expect((await check(t.dir, hours(h), { notifiers: [n], alertState: state })).action).toBe('hold');
    expect(n.sent.map((a) => a.kind)).toEqual(['inconclusive']); // one incident, one alert
    expect(t.head()).toBe(head);
  });

  it('opens one promotion PR for a healthy canary after the window (local forge)', async () => {
    const t = await canaryRepo();
    await outcomes(t.dir, 'v1.1.0', 400, 0, 0.1, 20);
    const head = t.head();
    const forge = new LocalForge({ repo: (await openContext({ dir: t.dir })).repo });
    const early = await check(t.dir, hours(20), { notifiers: [], alertState: memoryAlertState(), forge });
    expect(early.action).toBe('none'); // the window has not passed
    const r = await check(t.dir, hours(25), { notifiers: [], alertState: memoryAlertState(), forge });
    expect(r.action).toBe('promote-pr');
    expect(r.pullRequest).toMatchObject({ branch: `mlops/promote/${M}`, action: 'created' });
    expect(t.head()).toBe(head); // main untouched until the PR is merged
    const onBranch = t.git('show', `mlops/promote/${M}:registry/${M}/deployments.yaml`);
    expect(onBranch).toContain('production: v1.1.0\n\ncanary: null');
    const again = await check(t.dir, hours(26), { notifiers: [], alertState: memoryAlertState(), forge });
    expect(again.pullRequest!.number).toBe(r.pullRequest!.number); // never a second PR
    expect((await forge.pulls()).filter((p) => p.state === 'open')).toHaveLength(1);
    await forge.mergePullRequest(`mlops/promote/${M}`);
    expect(readDeployments(t.dir)).toContain('production: v1.1.0');
  });

  it('promotes by commit with canary.auto_promote', async () => {
    const t = await canaryRepo({ canary: { auto_promote: true } });
    await outcomes(t.dir, 'v1.1.0', 400, 0, 0.1, 20);
    const r = await check(t.dir, hours(25), { notifiers: [], alertState: memoryAlertState() });
    expect(r.action).toBe('promote');
    expect(t.git('log', '-1', '--format=%s').trim()).toBe(`mlops(${M}): promote v1.1.0`);
    const v = (await cli(t.dir, 'show', `${M}@v1.1.0`, '--json')).json();
    expect(v.status).toBe('production');
    expect(v.manifest.observed.decisions[0]).toMatchObject({ verdict: 'promote', action: 'promote' });
  });

  it('steps the weight along canary.steps while healthy', async () => {
    expect(scheduledWeight([0.1, 0.25, 0.5], 24, 0)).toBe(0.1);
    expect(scheduledWeight([0.1, 0.25, 0.5], 24, 8)).toBe(0.25);
    expect(scheduledWeight([0.1, 0.25, 0.5], 24, 23.9)).toBe(0.5);
    const t = await canaryRepo({ canary: { steps: [0.1, 0.25, 0.5] } });
    await outcomes(t.dir, 'v1.1.0', 100, 0, 0.1, 9);
    expect((await check(t.dir, hours(4), { notifiers: [], alertState: memoryAlertState() })).action).toBe('none');
    const r = await check(t.dir, hours(9), { notifiers: [], alertState: memoryAlertState() });
    expect(r.action).toBe('weight');
    expect(readDeployments(t.dir)).toMatch(/weight: 0\.25/);
  });

  it('holds on a failing metric source and alerts after consecutive failures only', async () => {
    const t = await canaryRepo({ canary: { source: { type: 'prometheus', url: 'http://127.0.0.1:9' } } });
    const n = recorder();
    const state = memoryAlertState();
    const head = t.head();
    for (let i = 1; i <= SOURCE_FAILURES_BEFORE_ALERT + 1; i++) {
      const r = await check(t.dir, hours(i), { notifiers: [n], alertState: state });
      expect(r.action).toBe('source-failed');
      expect(n.sent.length).toBe(i >= SOURCE_FAILURES_BEFORE_ALERT ? 1 : 0);
    }
    expect(n.sent[0]).toMatchObject({ kind: 'source-failed', incident: `source:${M}` });
    expect(t.head()).toBe(head);
  });

  it('analyze and check --dry-run change nothing', async () => {
    const t = await canaryRepo();
    await outcomes(t.dir, 'v1.1.0', 200, 40);
    const head = t.head();
    const a = await cli(t.dir, 'canary', 'analyze', M, '--at', hours(2).toISOString(), '--json');
    expect(a.code).toBe(0);
    expect(a.json()).toMatchObject({ version: 'v1.1.0', verdict: { verdict: 'rollback', streams: { E: { n: 200, k: 40 } } } });
    expect(a.json()).not.toHaveProperty('aggregate');
    const d = await cli(t.dir, 'canary', 'check', M, '--at', hours(2).toISOString(), '--dry-run', '--json');
    expect(d.json()).toMatchObject({ action: 'rollback', dryRun: true, commits: [] });
    expect(t.head()).toBe(head);
    expect(existsSync(join(t.dir, '.mlops/alerts-state.json'))).toBe(false);
    const ctx = await openContext({ dir: t.dir });
    expect((await analyzeCanary(ctx, { at: hours(2), method: 'threshold' })).verdict.method).toBe('threshold');
  });

  it('the CLI check writes the alert to the job summary file', async () => {
    const t = await canaryRepo();
    await outcomes(t.dir, 'v1.1.0', 200, 40);
    const summary = join(t.dir, '.mlops', 'summary.md');
    process.env.GITHUB_STEP_SUMMARY = summary;
    try {
      const r = await cli(t.dir, 'canary', 'check', M, '--at', hours(2).toISOString(), '--json');
      expect(r.code).toBe(0);
      expect(r.json().action).toBe('rollback');
      expect(readFileSync(summary, 'utf8')).toContain('rolled back');
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY;
    }
  });
});
