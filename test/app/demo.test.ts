// The README's main command, end to end: the demo's story must hold, and leave a registry that
// verifies, with a real revert commit and the dashboard.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runDemo } from '../../src/app/demo.js';
import { tempDir } from '../helpers/gitdir.js';
import { cli } from '../helpers/registry.js';

describe('mlops demo', () => {
  it('promotes v1.1.0 by the sequential test and rolls v1.2.0 back by git revert', async () => {
    const dir = join(tempDir(), 'demo');
    const lines: string[] = [];
    const r = await runDemo({ dir, seed: 42, log: (l) => lines.push(l) });
    expect(r.retrains.map((x) => [x.version, x.deploy, x.status])).toEqual([
      ['v1.0.0', 'production', 'created'],
      ['v1.1.0', 'canary', 'created'],
      ['v1.2.0', 'canary', 'created'],
    ]);
    for (const x of r.retrains) expect(x.metrics!.auc).toBeGreaterThanOrEqual(0.8);
    const [good, bad] = r.canaries;
    expect(good).toMatchObject({ version: 'v1.1.0', verdict: 'promote', action: 'promote-pr', fault: null });
    expect(good!.hours).toBeGreaterThanOrEqual(24); // promotion waits for the window
    expect(bad).toMatchObject({ version: 'v1.2.0', verdict: 'rollback', action: 'rollback' });
    expect(bad!.streams.E.llr).toBeGreaterThanOrEqual(Math.log(100));
    expect(r.versions).toEqual([
      { version: 'v1.2.0', status: 'deprecated', auc: expect.any(Number) },
      { version: 'v1.1.0', status: 'production', auc: expect.any(Number) },
      { version: 'v1.0.0', status: 'staging', auc: expect.any(Number) },
    ]);
    // a real revert commit, pushed to the origin
    const git = (...a: string[]) => execFileSync('git', a, { cwd: r.registry, encoding: 'utf8' });
    expect(git('log', '-1', '--format=%s', r.revertCommit!).trim()).toBe('Revert "mlops(backlink-success): canary-start v1.2.0"');
    expect(git('rev-parse', 'origin/main').trim()).toBe(git('rev-parse', 'main').trim());
    expect(git('tag').trim().split('\n')).toEqual(['backlink-success@v1.0.0', 'backlink-success@v1.1.0', 'backlink-success@v1.2.0']);
    expect((await cli(r.registry, 'verify')).code).toBe(0);
    expect(readFileSync(r.alerts, 'utf8')).toMatch(/Rollback: Canary backlink-success@v1.2.0 rolled back/);
    expect(existsSync(r.dashboard)).toBe(true);
    expect(lines.some((l) => l.includes('rolled back by git revert'))).toBe(true);

    // Deterministic with --seed: a second run in another folder writes the same history, down to
    // the revert commit's hash (datasets, models and commit dates included).
    const again = await runDemo({ dir: join(tempDir(), 'demo'), seed: 42, log: () => undefined });
    expect(again.revertCommit).toBe(r.revertCommit);
    expect(again.canaries).toEqual(r.canaries);
  }, 900_000);
});
