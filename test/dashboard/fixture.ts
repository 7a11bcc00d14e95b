// A registry with real history for the dashboard tests: two sealed dataset shards, four
// versions, promotions through canaries, a canary rolled back by a person with a plain
// `git revert`, a hand edit of deployments.yaml, a running canary with simulated outcomes in
// .mlops/outcomes, an open incident in the alert state, and user-controlled text (descriptions,
// commit messages, author names) that tries to inject markup.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openContext, type Context } from '../../src/app/context.js';
import { collectOutcomes } from '../../src/app/data-collect.js';
import { registerVersion } from '../../src/app/register.js';
import { canaryStart, deprecate, promote } from '../../src/app/stage-ops.js';
import { fileAlertState } from '../../src/alerts/state.js';
import { simulateCanary } from '../../src/canary/simulate.js';
import { getFeedbackCollector } from '../../src/data/collector.js';
import { newModelDoc, serializeModel } from '../../src/registry/manifest.js';
import { sha256Hex } from '../../src/util/hash.js';
import { GIT_ENV } from '../helpers/gitdir.js';
import { registryRepo } from '../helpers/registry.js';

export const MODEL = 'backlink-success';
export const XSS = {
  description: '<script>window.__xss = "description"</script>',
  modelDescription: '<img src=x onerror="window.__xss=\'model\'">',
  author: '<img src=x onerror="window.__xss=\'author\'">',
  message: 'weight by hand <script>window.__xss="message"</script>',
  reason: '<b onmouseover="window.__xss=1">bad</b> canary & "quotes"',
};

const H = 3_600_000;
/** Canary of the last version starts here; the site is built 6 hours later. */
export const CANARY_START = Date.parse('2026-11-16T08:00:00Z');
export const NOW = new Date(CANARY_START + 6 * H);

export interface DashboardFixture {
  dir: string;
  git(...args: string[]): string;
  versions: string[];
  /** The canary-start commit a person reverted. */
  reverted: string;
  /** The revert commit itself. */
  revert: string;
  handEdit: string;
  ctx(now?: Date): Promise<Context>;
}

/** Outcomes of production traffic at `perDay` a day over [from, to), results cycling deterministically. */
function history(from: number, to: number, perDay: number, version: string, seed: string) {
  const out = [];
  const step = 86_400_000 / perDay;
  let i = 0;
  for (let t = from; t < to; t += step, i++) {
    out.push({
      task_id: `${seed}-${i}`,
      domain: `d${i % 37}.example`,
      url: `https://d${i % 37}.example/p/${i}`,
      action_attempted: i % 3 ? 'blog_comment' : 'forum_post',
      result: (i % 10 === 0 ? 'error' : i % 4 === 0 ? 'failure' : 'success') as 'success' | 'failure' | 'error',
      failure_reason: null,
      execution_time: 3.5,
      model: MODEL,
      model_version: version,
      response_time_ms: 4 + (i % 7),
      timestamp: new Date(t).toISOString(),
      features: {},
    });
  }
  return out;
}

function gitAs(dir: string, author: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...GIT_ENV, GIT_AUTHOR_NAME: author, GIT_AUTHOR_EMAIL: 'someone@example.test' } });
}

export async function dashboardRegistry(): Promise<DashboardFixture> {
  const t = registryRepo({ config: { canary: { duration_hours: 4 } } });
  const dir = t.dir;
  const ctxAt = (ms: number) => openContext({ dir, now: () => new Date(ms) });
  // A model description with markup in it, committed by hand.
  t.commit('describe the model', { [`registry/${MODEL}/model.yaml`]: serializeModel(newModelDoc({ name: MODEL, schemaVersion: 'schema_v1.0', description: XSS.modelDescription, owners: ['@seo-ml'] })) });

  const collector = getFeedbackCollector({ dir, durability: 'none' });
  const week1 = Date.parse('2026-10-19T00:00:00Z');
  await collector.appendOutcomes(history(week1, week1 + 14 * 86_400_000, 40, 'v0.9.0', 'h1'));
  await collector.close();
  await collectOutcomes({ dir, commit: true, now: new Date(week1 + 14 * 86_400_000 + 2 * H) });

  const versions: string[] = [];
  const register = async (at: number, seed: string, extra: Record<string, unknown> = {}) => {
    const bytes = Buffer.from(`onnx:${seed}`);
    const r = await registerVersion(await ctxAt(at), {
      model: MODEL,
      artifact: { name: 'model.onnx', bytes, sha256: sha256Hex(bytes) },
      dataset: 'backlink-outcomes',
      training: { trainer: 'gbdt', params: { trees: 100, seed }, seed: 42 },
      ...extra,
    });
    versions.push(r.version);
    return r.version;
  };
  const day = (d: number, h = 0) => Date.parse('2026-11-02T00:00:00Z') + d * 86_400_000 + h * H;

  const v1 = await register(day(0, 3), 'a', { metrics: { auc: 0.812, accuracy: 0.771, log_loss: 0.452 }, description: XSS.description });
  await promote(await ctxAt(day(0, 4)), { model: MODEL, version: v1, force: true });
  const v2 = await register(day(2, 3), 'b', {
    metrics: { auc: 0.834, accuracy: 0.79, log_loss: 0.431 },
    validation: { baseline: v1, baseline_metrics: { auc: 0.812, accuracy: 0.771, log_loss: 0.452 }, threshold: 0.8, passed: true },
  });
  await canaryStart(await ctxAt(day(2, 4)), { model: MODEL, version: v2, weight: 0.1 });
  await promote(await ctxAt(day(3, 4)), { model: MODEL, version: v2 });
  const v3 = await register(day(4, 3), 'c', { metrics: { auc: 0.829, accuracy: 0.785, log_loss: 0.44 } });
  await canaryStart(await ctxAt(day(4, 4)), { model: MODEL, version: v3, weight: 0.1 });
  const reverted = t.head();
  // A person rolls the canary back with a plain git revert, then deprecates the version.
  gitAs(dir, XSS.author, 'revert', '--no-edit', reverted);
  const revert = t.head();
  await deprecate(await ctxAt(day(4, 6)), { model: MODEL, version: v3, reason: XSS.reason });

  // More outcomes, a second shard, a retrain on it and its canary.
  const c2 = getFeedbackCollector({ dir, durability: 'none' });
  await c2.appendOutcomes(history(week1 + 14 * 86_400_000, CANARY_START - 8 * H, 60, v2, 'h2'));
  await c2.close();
  await collectOutcomes({ dir, commit: true, now: new Date(CANARY_START - 6 * H) });
  const v4 = await register(CANARY_START - 2 * H, 'd', {
    metrics: { auc: 0.851, accuracy: 0.8, log_loss: 0.418 },
    validation: { baseline: v2, baseline_metrics: { auc: 0.834, accuracy: 0.79, log_loss: 0.431 }, threshold: 0.8, passed: true },
  });
  await canaryStart(await ctxAt(CANARY_START), { model: MODEL, version: v4, weight: 0.2 });

  // A hand edit of the canary weight, with markup in the message and the author.
  const depPath = join(dir, `registry/${MODEL}/deployments.yaml`);
  writeFileSync(depPath, readFileSync(depPath, 'utf8').replace('weight: 0.2', 'weight: 0.25'));
  gitAs(dir, XSS.author, 'commit', '-q', '-am', XSS.message);
  const handEdit = t.head();

  // Simulated traffic since the canary started, written through the collector.
  const sim = simulateCanary({
    seed: 7,
    model: MODEL,
    requestsPerHour: 240,
    hours: 6,
    startedAt: CANARY_START,
    production: { version: v2, behaviour: { success_rate: 0.84, error_rate: 0.02, latency: { median_ms: 20, p95_ms: 60 } } },
    canary: { version: v4, weight: 0.25, behaviour: { success_rate: 0.9, error_rate: 0.01, latency: { median_ms: 18, p95_ms: 50 } } },
  });
  const c3 = getFeedbackCollector({ dir, durability: 'none' });
  await c3.appendOutcomes([...sim]);
  await c3.close();

  // An open incident, as the hourly check leaves it after an alert.
  await fileAlertState(join(dir, '.mlops', 'alerts-state.json')).set(`canary:${MODEL}@${v4}`, {
    incident: `canary:${MODEL}@${v4}`,
    model: MODEL,
    version: v4,
    opened_at: new Date(CANARY_START + 3 * H).toISOString(),
    kinds: { inconclusive: { first_at: new Date(CANARY_START + 3 * H).toISOString(), last_at: new Date(CANARY_START + 5 * H).toISOString(), count: 3, delivered: ['webhook'] } },
  });

  return { dir, git: t.git, versions, reverted, revert, handEdit, ctx: (now = NOW) => openContext({ dir, now: () => now }) };
}
