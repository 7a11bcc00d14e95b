// Builds the fixture registry's site once per test file, with what the CLI prints about the same
// registry (list --json, canary analyze --json) for comparison. The registry folder is removed
// after the first test by the gitdir helper, so everything a test needs is read here.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDashboard, type BuildDashboardResult } from '../../src/app/dashboard.js';
import { readLock } from '../../src/data/read-lock.js';
import type { DatasetLock } from '../../src/data/lock.js';
import { cli } from '../helpers/registry.js';
import { dashboardRegistry, MODEL, NOW, type DashboardFixture } from './fixture.js';

export interface BuiltSite {
  fixture: Pick<DashboardFixture, 'versions' | 'reverted' | 'revert' | 'handEdit'>;
  out: string;
  result: BuildDashboardResult;
  /** Page path -> HTML. */
  pages: Map<string, string>;
  list: Array<Record<string, any>>;
  analysis: Record<string, any>;
  history: Array<Record<string, any>>;
  tags: Record<string, string>;
  lock: DatasetLock;
  cleanup(): void;
}

export async function buildFixtureSite(): Promise<BuiltSite> {
  const f = await dashboardRegistry();
  const out = join(mkdtempSync(join(tmpdir(), 'mlops-dashboard-')), 'site');
  const result = await buildDashboard({ ctx: await f.ctx(), out, now: NOW });
  const pages = new Map(result.pages.map((p) => [p.path, readFileSync(join(out, p.path), 'utf8')]));
  const list = (await cli(f.dir, 'list', '--json')).json();
  const analyzed = await cli(f.dir, 'canary', 'analyze', MODEL, '--json', '--at', NOW.toISOString());
  if (analyzed.code !== 0) throw new Error(`canary analyze failed: ${analyzed.stderr}`);
  const history = (await cli(f.dir, 'history', MODEL, '--json')).json().moves;
  const tags: Record<string, string> = {};
  for (const v of f.versions) tags[v] = f.git('rev-parse', `${MODEL}@${v}^{commit}`).trim();
  const { lock } = await readLock(f.dir);
  return {
    fixture: { versions: f.versions, reverted: f.reverted, revert: f.revert, handEdit: f.handEdit },
    out,
    result,
    pages,
    list,
    analysis: analyzed.json(),
    history,
    tags,
    lock,
    cleanup: () => rmSync(join(out, '..'), { recursive: true, force: true }),
  };
}
