import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gitdir, tempDir } from '../helpers/gitdir.js';
import { cli } from '../helpers/registry.js';
import { openContext } from '../../src/app/context.js';
import { retrain } from '../../src/app/retrain.js';
import { initRegistry } from '../../src/app/init.js';
import { getFeedbackCollector } from '../../src/data/collector.js';
import { synthOutcomes } from '../../src/data/synth.js';
import { LocalForge } from '../../src/forge/local.js';
import { GitHubForge } from '../../src/forge/github.js';
import { memoryAlertState } from '../../src/alerts/state.js';
import { startGitHubServer } from '../helpers/github-server.js';
import type { TestRepo } from '../helpers/gitdir.js';

const M = 'backlink-success';
const DAY = 86_400_000;
const START = Date.parse('2026-11-01T00:00:00Z');

/** A registry repository (mlops init) with a bare origin, small fast training settings. */
async function setup(config: Record<string, unknown> = {}): Promise<{ t: TestRepo; origin: string }> {
  const t = gitdir({ 'README.md': '# registry\n' });
  const origin = tempDir();
  t.git('init', '-q', '--bare', origin);
  t.git('remote', 'add', 'origin', origin);
  await initRegistry({ dir: t.dir, model: M, forge: 'local' });
  const cfg = JSON.parse(t.git('show', 'HEAD:mlops.config.json'));
  // Small data keeps the test fast; the gate is lowered to match (the demo uses realistic volumes).
  Object.assign(cfg, { train: { trainer: 'gbdt', params: { trees: 30, depth: 4 }, seed: 7 }, retrain: { ...cfg.retrain, min_new_samples: 500, validation_threshold: 0.6 }, alerts: [] }, config);
  t.commit('config', { 'mlops.config.json': JSON.stringify(cfg, null, 2) + '\n' });
  t.git('push', '-q', 'origin', 'main');
  return { t, origin };
}

async function week(dir: string, n: number, rows = 3000) {
  const c = getFeedbackCollector({ dir });
  await c.appendOutcomes(synthOutcomes({ seed: 100 + n, rows, start: new Date(START + n * 7 * DAY).toISOString(), end: new Date(START + (n + 1) * 7 * DAY).toISOString(), idPrefix: `w${n}` }));
  await c.close();
}

async function run(dir: string, extra: Parameters<typeof retrain>[1] = {}) {
  const ctx = await openContext({ dir, now: () => new Date(START + 30 * DAY) });
  return retrain(ctx, { env: {}, notifiers: [], alertState: memoryAlertState(), ...extra });
}

describe('mlops retrain (local forge, bare origin)', () => {
  it('bootstraps v1.0.0 to production through its PR, then v1.1.0 as a canary PR; re-runs update the same PR', async () => {
    const { t, origin } = await setup();
    await week(t.dir, 0);
    const mainBefore = t.head();
    const began = performance.now();
    const first = await run(t.dir);
    const wall = performance.now() - began;
    expect(first).toMatchObject({ status: 'created', version: 'v1.0.0', deploy: 'production', validation: { passed: true, baseline: null } });
    expect(first.steps.map((s) => s.name)).toEqual(['collect', 'merge', 'features', 'train', 'evaluate', 'validate', 'register', 'deploy', 'pull-request']);
    // Steps are timed back to back: together they account for the run, none counted twice.
    const stepsMs = first.steps.reduce((n, s) => n + s.ms, 0);
    expect(stepsMs).toBeLessThanOrEqual(wall + first.steps.length);
    expect(first.steps.find((s) => s.name === 'train')!.ms).toBeGreaterThan(0);
    expect(first.metrics!.auc).toBeGreaterThan(0.6);
    expect(t.head()).toBe(mainBefore); // main untouched: everything is on the PR branch
    expect(t.status()).toBe('');
    expect(t.git('log', '--format=%s', `main..mlops/retrain/${M}`).trim().split('\n')).toEqual([
      `mlops(${M}): promote v1.0.0`,
      `mlops(${M}): register v1.0.0`,
      expect.stringMatching(/^mlops\(data\): collect \d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.csv$/),
    ]);
    expect(t.git('--git-dir', origin, 'rev-parse', `refs/heads/mlops/retrain/${M}`).trim()).toBe(t.git('rev-parse', `mlops/retrain/${M}`).trim());
    const forge = new LocalForge({ repo: (await openContext({ dir: t.dir })).repo });
    const prs = await forge.pulls();
    expect(prs).toHaveLength(1);
    expect(prs[0]!.body).toContain('first version');

    await forge.mergePullRequest(`mlops/retrain/${M}`);
    expect((await cli(t.dir, 'get', M, '--json')).json().version).toBe('v1.0.0');
    expect((await cli(t.dir, 'verify')).code).toBe(0);

    // no new outcomes since v1.0.0: skipped, exit 0, nothing kept
    const skipped = await run(t.dir);
    expect(skipped).toMatchObject({ status: 'skipped', newSamples: 0 });
    expect(skipped.reason).toContain('min_new_samples');

    await week(t.dir, 1);
    const second = await run(t.dir);
    expect(second).toMatchObject({ status: 'created', version: 'v1.1.0', deploy: 'canary', production: { version: 'v1.0.0' } });
    expect(second.production!.metrics.auc).toBeGreaterThan(0.5);
    const pr = (await forge.pulls()).find((p) => p.state === 'open')!;
    expect(pr.body).toMatch(/\| auc \| 0\.\d{4} \| 0\.\d{4} \| [+-]0\.\d{4} \|/);
    const again = await run(t.dir);
    expect(again.status).toBe('unchanged'); // same data, same model, same body: the PR is left alone
    expect(again.pullRequest!.number).toBe(pr.number);
    expect((await forge.pulls()).filter((p) => p.state === 'open')).toHaveLength(1);
    await forge.mergePullRequest(`mlops/retrain/${M}`);
    const list = (await cli(t.dir, 'list', '--json')).json();
    expect(list.map((r: { version: string; status: string }) => [r.version, r.status])).toEqual([['v1.1.0', 'canary'], ['v1.0.0', 'production']]);
    const show = (await cli(t.dir, 'show', `${M}@v1.1.0`, '--json')).json();
    expect(show.manifest).toMatchObject({ parent: 'v1.0.0', training: { trainer: 'gbdt', seed: 7 }, validation: { baseline: 'v1.0.0', passed: true }, artifact: { files: [{ path: 'features.json' }] } });
  });

  it('refuses a model that fails validation and leaves nothing behind', async () => {
    const { t } = await setup({ retrain: { min_new_samples: 500, validation_threshold: 0.99 } });
    await week(t.dir, 0);
    const refs = t.git('for-each-ref');
    await expect(run(t.dir)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', data: { validation: { passed: false } } });
    expect(t.git('for-each-ref')).toBe(refs);
    expect(t.status()).toBe('');
  });

  it('--dry-run trains and reports but keeps no branch, commit or PR', async () => {
    const { t } = await setup();
    await week(t.dir, 0);
    const refs = t.git('for-each-ref');
    const r = await run(t.dir, { dryRun: true });
    expect(r).toMatchObject({ status: 'dry-run', version: 'v1.0.0', pullRequest: null });
    expect(t.git('for-each-ref')).toBe(refs);
    expect(existsSync(join(t.dir, '.git/mlops/prs'))).toBe(false);
  });

  it('two retrains at once: one builds the branch, the other is refused', async () => {
    const { t } = await setup();
    await week(t.dir, 0);
    const results = await Promise.allSettled([run(t.dir), run(t.dir)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatchObject({ code: 'CONCURRENT_UPDATE' });
    expect(t.git('branch', '--list', 'mlops/*').trim()).toBe(`mlops/retrain/${M}`);
  });
});

describe('mlops retrain against the GitHub REST contract', () => {
  it('opens one PR with labels, then updates it only when the body changes', async () => {
    const server = await startGitHubServer();
    try {
      const { t } = await setup({ forge: { type: 'github', base: 'main', repository: `${server.owner}/${server.repo}` } });
      const forge = new GitHubForge({ repository: `${server.owner}/${server.repo}`, token: server.token, apiUrl: server.url, timeoutMs: 5000 });
      await week(t.dir, 0);
      const first = await run(t.dir, { forge });
      expect(first.status).toBe('created');
      expect(server.pulls()).toHaveLength(1);
      expect(server.pulls()[0]).toMatchObject({ title: `mlops(${M}): retrain v1.0.0` });
      expect((await run(t.dir, { forge })).status).toBe('unchanged');
      await week(t.dir, 1, 1000);
      expect((await run(t.dir, { forge })).status).toBe('updated');
      expect(server.pulls()).toHaveLength(1);
      expect(server.violations).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
