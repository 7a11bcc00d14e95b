// Use case: `mlops demo`, the whole loop offline in a fresh registry with a local bare origin,
// on a simulated clock (so a month passes in a minute, and the same --seed gives the same
// versions, verdicts, numbers and even commit hashes):
//   three weeks of outcomes -> retrain -> v1.0.0 to production through its PR;
//   a week more -> v1.1.0 through its PR -> 10% canary -> hourly traffic through the real router
//   and server -> promoted by the sequential test;
//   a week more -> v1.2.0, which passes offline validation but errors in live traffic (a fault
//   the simulation injects, as a broken feature service would) -> rolled back by `git revert`,
//   alert written; then the dashboard.
import { mkdtemp, mkdir, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MlopsError } from '../errors.js';
import { initRegistry } from './init.js';
import { openContext, type Context } from './context.js';
import { retrain, type RetrainResult } from './retrain.js';
import { checkCanary, type CheckResult } from './canary-check.js';
import { syncTags } from './tags-sync.js';
import { listVersions } from './read.js';
import { synthToStore } from './data-synth.js';
import { synthOutcomes } from '../data/synth.js';
import { seededRandom } from '../util/random.js';
import { LocalForge } from '../forge/local.js';
import { fileAlertState } from '../alerts/state.js';
import { createSummaryNotifier } from '../alerts/summary.js';
import type { StreamName } from '../canary/sprt.js';

const run = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Sunday 2026-10-04 02:00 UTC: the first weekly retrain falls three weeks later. */
const EPOCH = Date.parse('2026-10-04T02:00:00Z');
const MODEL = 'backlink-success';
/**
 * The product attempts a backlink when the model gives it at least this probability: so the
 * live success rate is the model's precision there, which the canary thresholds (80%) judge.
 */
const ATTEMPT_THRESHOLD = 0.8;

export interface DemoOptions {
  /** Where to build it (default: a new temporary folder). Must be empty or absent. */
  dir?: string;
  seed?: number;
  /** One line per step. */
  log?: (line: string) => void;
  /** Candidate backlink attempts per simulated hour (the product attempts the ones the model rates well). */
  candidatesPerHour?: number;
}

export interface CanaryStory {
  version: string;
  fault: string | null;
  hours: number;
  action: CheckResult['action'];
  verdict: string;
  streams: Record<StreamName, { n: number; k: number; llr: number }>;
  reasons: string[];
  commits: string[];
}

export interface DemoResult {
  dir: string;
  registry: string;
  dashboard: string;
  alerts: string;
  seed: number;
  retrains: Array<Pick<RetrainResult, 'version' | 'status' | 'deploy' | 'metrics' | 'production'>>;
  canaries: CanaryStory[];
  revertCommit: string | null;
  versions: Array<{ version: string; status: string; auc: number | null }>;
  seconds: number;
}

interface World {
  seed: number;
  dir: string;
  clock: { now: number };
  ctx: () => Promise<Context>;
  log: (line: string) => void;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const seed = opts.seed ?? 42;
  const log = opts.log ?? (() => undefined);
  const base = opts.dir ? resolve(opts.dir) : await mkdtemp(join(tmpdir(), 'mlops-demo-'));
  await mkdir(base, { recursive: true });
  const existing = await import('node:fs/promises').then((f) => f.readdir(base));
  if (existing.length) {
    throw new MlopsError('INVALID_ARGUMENT', `${base} is not empty`, { hint: 'Pass --dir with a new or empty folder, or leave it out for a temporary one.' });
  }
  const dir = join(base, 'registry');
  const origin = join(base, 'origin.git');
  const alerts = join(base, 'alerts.md');
  const clock = { now: EPOCH };
  const world: World = { seed, dir, clock, log, ctx: () => openContext({ dir, now: () => new Date(clock.now) }) };
  const iso = () => new Date(clock.now).toISOString().replace(/:00\.000Z$/, 'Z');

  // --- a registry repository with a bare origin, like a fork on a forge
  log(`▸ registry in ${dir} (origin ${origin})`);
  await run('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]) => run('git', args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_DATE: iso(), GIT_COMMITTER_DATE: iso() } });
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.name', 'mlops demo');
  await git('config', 'user.email', 'demo@mlops.invalid');
  await git('config', 'commit.gpgsign', 'false');
  await git('config', 'tag.gpgsign', 'false');
  await git('remote', 'add', 'origin', origin);
  await writeFile(join(dir, 'README.md'), '# backlink-success registry (mlops demo)\n');
  await git('add', 'README.md');
  await git('commit', '-q', '-m', 'Start the registry');
  await initRegistry({ dir, model: MODEL, forge: 'local', workflows: true, now: () => new Date(clock.now) });
  // forge local: alerts go to the job summary notifier, here a Markdown file (in CI: the job summary, a webhook, an issue).
  await git('push', '-q', 'origin', 'main');

  const retrains: DemoResult['retrains'] = [];
  const canaries: CanaryStory[] = [];
  const forge = async () => new LocalForge({ repo: (await world.ctx()).repo, remote: 'origin', now: () => new Date(clock.now) });

  // --- weeks 1-3 of outcomes, then the first retrain: v1.0.0 goes straight to production
  for (let w = 0; w < 3; w++) await week(world, w, null);
  clock.now = EPOCH + 21 * DAY;
  retrains.push(await weeklyRetrain(world, forge));
  await mergePr(world, forge);

  // --- week 4 under v1.0.0, then v1.1.0 as a 10% canary, judged hour by hour
  await week(world, 3, 'v1.0.0');
  clock.now = EPOCH + 28 * DAY;
  retrains.push(await weeklyRetrain(world, forge));
  clock.now += HOUR;
  await mergePr(world, forge);
  canaries.push(await watchCanary(world, forge, alerts, opts.candidatesPerHour ?? 1200, null));

  // --- week 5 under v1.1.0, then v1.2.0: fine offline, broken live
  await week(world, 4, 'v1.1.0');
  clock.now = Math.max(clock.now, EPOCH + 35 * DAY);
  retrains.push(await weeklyRetrain(world, forge));
  clock.now += HOUR;
  await mergePr(world, forge);
  const fault = 'its feature service times out on 20% of live requests (injected by the simulation; invisible to offline metrics)';
  canaries.push(await watchCanary(world, forge, alerts, opts.candidatesPerHour ?? 1200, fault));

  // --- the dashboard
  const ctx = await world.ctx();
  const { buildDashboard } = await import('./dashboard.js');
  const dashboard = join(base, 'dashboard');
  const site = await buildDashboard({ ctx, out: dashboard, now: new Date(clock.now) });
  log(`▸ dashboard: ${site.pages.length} pages in ${dashboard}`);

  const rolledBack = canaries.find((c) => c.action === 'rollback');
  const versions = (await listVersions(ctx, { model: MODEL })).map((r) => ({ version: r.version, status: r.status, auc: typeof r.metrics.auc === 'number' ? r.metrics.auc : null }));
  return {
    dir: base,
    registry: dir,
    dashboard: join(dashboard, 'index.html'),
    alerts,
    seed,
    retrains,
    canaries,
    revertCommit: rolledBack?.commits[0] ?? null,
    versions,
    seconds: (Date.now() - started) / 1000,
  };
}

/** A week of the product's outcomes, appended to the outcome store. */
async function week(w: World, n: number, modelVersion: string | null): Promise<void> {
  const start = EPOCH + n * 7 * DAY;
  const r = await synthToStore({
    dir: w.dir,
    seed: w.seed * 1000 + n,
    worldSeed: w.seed,
    rows: 12_000,
    domains: 300,
    start: new Date(start).toISOString(),
    end: new Date(start + 7 * DAY).toISOString(),
    model: MODEL,
    modelVersion,
    idPrefix: `wk${n}`,
    durable: false,
  });
  w.log(`▸ week ${n + 1}: ${r.appended} outcomes (${r.results.success} success, ${r.results.failure} failure, ${r.results.error} error)`);
}

async function weeklyRetrain(w: World, forge: () => Promise<LocalForge>) {
  const ctx = await w.ctx();
  w.log(`▸ ${new Date(w.clock.now).toISOString().slice(0, 16)} weekly retrain`);
  const r = await retrain(ctx, {
    forge: await forge(),
    notifiers: [],
    env: {},
    onStep: (s) => w.log(`    ${s.name.padEnd(12)} ${s.detail}`),
  });
  const vs = r.production ? ` vs production ${r.production.version} ${r.production.metrics.auc?.toFixed(4)}` : '';
  w.log(`  → ${MODEL}@${r.version}: test AUC ${r.metrics?.auc?.toFixed(4)}${vs}; PR #${r.pullRequest?.number} ${r.status}`);
  return { version: r.version, status: r.status, deploy: r.deploy, metrics: r.metrics, production: r.production };
}

/** Merges the open PR the way a reviewer would on the forge, then pushes and tags like registry.yml. */
async function mergePr(w: World, forge: () => Promise<LocalForge>): Promise<void> {
  const f = await forge();
  const open = (await f.pulls()).filter((p) => p.state === 'open');
  for (const pr of open) {
    await f.mergePullRequest(pr.head, { method: 'merge', deleteBranch: true });
    w.log(`  ✓ ${new Date(w.clock.now).toISOString().slice(0, 16)} reviewed and merged PR #${pr.number} "${pr.title}"`);
  }
  const ctx = await w.ctx();
  await ctx.repo.push('origin', ['refs/heads/main:refs/heads/main']);
  const tags = await syncTags(ctx, { push: true });
  if (tags.created.length) w.log(`  ✓ tagged ${tags.created.map((t) => t.tag).join(', ')}`);
}

/**
 * Hourly traffic through the real server until the canary check acts. Each hour: candidate
 * attempts are scored by `POST /v1/models/<model>/predict` (the router sends ~10% of keys to
 * the canary), the product attempts the ones rated at least ATTEMPT_THRESHOLD, and their outcomes go back
 * through `POST /v1/outcomes`; then the hourly `canary check` runs, as canary.yml would.
 */
async function watchCanary(w: World, forge: () => Promise<LocalForge>, alerts: string, candidates: number, fault: string | null): Promise<CanaryStory> {
  const ctx0 = await w.ctx();
  const canary = (await ctx0.store.readDeployments(MODEL)).canary;
  if (!canary) throw new MlopsError('INTERNAL', 'the merged retrain PR did not start a canary');
  w.log(`▸ canary ${MODEL}@${canary.version} at ${canary.weight * 100}%${fault ? `; ${canary.version} ${fault}` : ''}`);
  const { startServer } = await import('../serve/server.js');
  const server = await startServer({ dir: w.dir, port: 0, watch: false, pollIntervalMs: 0, defaultMetrics: false, durability: 'none', now: () => new Date(w.clock.now) });
  const rand = seededRandom(w.seed * 7919 + Number(canary.version.replace(/\D/g, '')));
  const summary = { write: (s: string) => void appendFile(alerts, s) };
  const notifiers = [createSummaryNotifier({ stream: summary, now: () => new Date(w.clock.now) })];
  const alertState = fileAlertState(join(w.dir, '.mlops', 'alerts-state.json'));
  const startHour = w.clock.now;
  try {
    for (let h = 1; h <= 72; h++) {
      const hourStart = startHour + (h - 1) * HOUR;
      w.clock.now = hourStart + HOUR;
      const records = synthOutcomes({
        seed: w.seed * 100_000 + h + (fault ? 50_000 : 0),
        worldSeed: w.seed,
        rows: candidates,
        domains: 300,
        start: new Date(hourStart).toISOString(),
        end: new Date(hourStart + HOUR - 1000).toISOString(),
        idPrefix: `live-${canary.version}-${h}`,
      });
      // Workers ask in small batches, as a fleet of replicas would.
      const predictions: Array<{ probability: number; version: string; route: string }> = [];
      for (let i = 0; i < records.length; i += 50) {
        const batch = records.slice(i, i + 50).map((r) => ({ task_id: r.task_id, domain: r.domain, url: r.url, action_attempted: r.action_attempted, timestamp: r.timestamp, features: r.features }));
        predictions.push(...((await post(`${server.url}/v1/models/${MODEL}/predict`, { records: batch })) as { predictions: typeof predictions }).predictions);
      }
      const outcomes: string[] = [];
      records.forEach((r, i) => {
        const p = predictions[i]!;
        if (p.probability < ATTEMPT_THRESHOLD) return; // the product only attempts what the model rates well
        let result = r.result;
        let reason = r.failure_reason;
        if (fault && p.version === canary.version && rand() < 0.2) {
          result = 'error';
          reason = 'feature_service_timeout';
        }
        // The response time is the synthetic one, not the server's measured time: a measured time
        // would make the sealed datasets, and so every later hash, differ from run to run.
        outcomes.push(JSON.stringify({ ...r, result, failure_reason: result === 'success' ? null : reason, model: MODEL, model_version: p.version }));
      });
      await post(`${server.url}/v1/outcomes`, outcomes.join('\n') + '\n', 'application/x-ndjson');
      const ctx = await w.ctx();
      const r = await checkCanary(ctx, { at: new Date(w.clock.now), env: {}, forge: await forge(), notifiers, alertState, stdout: summary });
      const v = r.analysis?.verdict;
      if (v && (h % 4 === 0 || r.action !== 'none')) {
        const s = v.streams;
        w.log(`  hour ${String(h).padStart(2)}: ${v.verdict.padEnd(8)} S ${s.S.k}/${s.S.n} Λ=${s.S.llr.toFixed(2)}  E ${s.E.k}/${s.E.n} Λ=${s.E.llr.toFixed(2)}  L↑ ${s.Lup.k}/${s.Lup.n} Λ=${s.Lup.llr.toFixed(2)}   (promote ≤ ${Math.log(v.beta).toFixed(2)}, roll back ≥ ${Math.log(1 / v.alpha).toFixed(2)})`);
      }
      // An inconclusive window holds the canary (and alerts once); the hourly checks go on.
      if (r.action === 'none' || r.action === 'weight' || r.action === 'hold') continue;
      const story: CanaryStory = {
        version: canary.version,
        fault,
        hours: h,
        action: r.action,
        verdict: v?.verdict ?? 'none',
        streams: Object.fromEntries((['S', 'E', 'Lup', 'Ldown'] as const).map((k) => [k, { n: v!.streams[k].n, k: v!.streams[k].k, llr: Number(v!.streams[k].llr.toFixed(3)) }])) as CanaryStory['streams'],
        reasons: v?.reasons ?? [],
        commits: r.commits,
      };
      if (r.action === 'promote-pr') {
        w.log(`  → promotion PR #${r.pullRequest?.number} opened by the canary check`);
        w.clock.now += HOUR;
        await mergePr(w, forge);
      } else if (r.action === 'rollback') {
        w.log(`  → rolled back by git revert ${r.commits[0]?.slice(0, 12)}; ${canary.version} deprecated; alert written to ${alerts}`);
        await ctx.repo.push('origin', ['refs/heads/main:refs/heads/main']);
      } else {
        w.log(`  → ${r.action}`);
      }
      return story;
    }
    throw new MlopsError('INTERNAL', `the canary of ${canary.version} was not decided in 72 simulated hours`);
  } finally {
    await server.close();
  }
}

async function post(url: string, body: unknown, type = 'application/json'): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new MlopsError('SERVE_FAILED', `${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}
