// A seeded canary traffic simulator: requests arrive as a Poisson process, are routed by the real
// SPEC 6.4 split, and each version answers with its own success, error and latency behaviour.
// Pure and deterministic for a seed; the demo and tests write its records through the collector,
// the decision benchmark folds them directly.
import { seededRandom } from '../util/random.js';
import { MlopsError } from '../errors.js';
import { routeKey } from './route.js';

export interface Behaviour {
  /** Probability that an attempt succeeds. */
  success_rate: number;
  /** Probability that an attempt breaks (result `error`); the rest are failures. */
  error_rate: number;
  /** Log-normal model response time, given by its median and 95th percentile in ms. */
  latency: { median_ms: number; p95_ms: number };
}

export interface SimulateOptions {
  seed: number;
  model?: string;
  /** Requests per hour over both versions together. */
  requestsPerHour: number;
  /** Length of the simulated stretch, from startedAt. */
  hours: number;
  startedAt: Date | string | number;
  production: { version: string; behaviour: Behaviour } | null;
  canary: { version: string; weight: number; behaviour: Behaviour };
  /**
   * `hash` (default): each request gets a domain from a pool and goes where SPEC 6.4 sends it, so
   * the split is sticky per domain exactly as in serving. `bernoulli`: an independent coin per
   * request with probability `weight`, for experiments that must not depend on the pool.
   */
  routing?: 'hash' | 'bernoulli';
  /** Distinct domains requests come from (default 50,000). */
  domains?: number;
  /** 'canary': yield only the canary's records (the same ones as with 'all', the default). */
  only?: 'all' | 'canary';
}

export interface SimulatedOutcome {
  task_id: string;
  domain: string;
  url: string;
  action_attempted: string;
  result: 'success' | 'failure' | 'error';
  failure_reason: string | null;
  execution_time: number;
  model: string;
  model_version: string;
  response_time_ms: number;
  timestamp: string;
  features: { domain_authority: number };
}

const ACTIONS = ['blog_comment', 'forum_post', 'guest_post', 'directory_submission', 'profile_link'];
const Z95 = 1.6448536269514722;

export { seededRandom } from '../util/random.js';

/**
 * Yields outcome records in arrival order. A record's timestamp is its arrival plus its execution
 * time, so timestamps are nearly but not strictly sorted, as in a real store.
 */
export function* simulateCanary(options: SimulateOptions): Generator<SimulatedOutcome> {
  const { seed, requestsPerHour, hours, production, canary } = options;
  const model = options.model ?? 'backlink-success';
  const routing = options.routing ?? 'hash';
  const domains = options.domains ?? 50_000;
  const only = options.only ?? 'all';
  const start = options.startedAt instanceof Date ? options.startedAt.getTime() : typeof options.startedAt === 'number' ? options.startedAt : Date.parse(options.startedAt);
  const problems: string[] = [];
  if (!Number.isFinite(start)) problems.push('startedAt is not a valid instant');
  if (!(requestsPerHour >= 0) || !Number.isFinite(requestsPerHour)) problems.push('requestsPerHour must be a non-negative number');
  if (!(hours >= 0) || !Number.isFinite(hours)) problems.push('hours must be a non-negative number');
  if (!(canary.weight >= 0 && canary.weight <= 1)) problems.push('canary.weight must be within [0, 1]');
  for (const [name, b] of [['canary', canary.behaviour], ['production', production?.behaviour]] as const) {
    if (!b) continue;
    if (!(b.success_rate >= 0 && b.error_rate >= 0 && b.success_rate + b.error_rate <= 1 + 1e-12)) problems.push(`${name}: success_rate and error_rate must be probabilities summing to at most 1`);
    if (!(b.latency.median_ms > 0 && b.latency.p95_ms >= b.latency.median_ms)) problems.push(`${name}: latency needs 0 < median_ms <= p95_ms`);
  }
  if (problems.length) throw new MlopsError('INVALID_ARGUMENT', `invalid simulation: ${problems.join('; ')}`);

  const rand = seededRandom(seed);
  const normal = () => {
    // Box-Muller; 1 - rand() keeps the logarithm's argument in (0, 1].
    return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  };
  const end = start + hours * 3_600_000;
  const meanGapMs = requestsPerHour > 0 ? 3_600_000 / requestsPerHour : Number.POSITIVE_INFINITY;
  let t = start;
  for (let i = 0; ; i++) {
    t += -Math.log(1 - rand()) * meanGapMs;
    if (!(t < end)) return;
    const domain = `site-${Math.floor(rand() * domains)}.example`;
    const toCanary =
      production === null ||
      (routing === 'hash'
        ? routeKey({ model, canaryVersion: canary.version, weight: canary.weight, key: domain }) === 'canary'
        : rand() < canary.weight);
    const side = toCanary ? canary : production!;
    const b = side.behaviour;
    const u = rand();
    const result = u < b.error_rate ? 'error' : u < b.error_rate + b.success_rate ? 'success' : 'failure';
    const sigma = Math.log(b.latency.p95_ms / b.latency.median_ms) / Z95;
    // Microsecond resolution: coarser rounding would shift the share above a bound that sits on it.
    const responseTime = Math.round(b.latency.median_ms * Math.exp(sigma * normal()) * 1000) / 1000;
    const execution = Math.round((2 + rand() * 28) * 10) / 10;
    const action = ACTIONS[Math.floor(rand() * ACTIONS.length)]!;
    const authority = Math.floor(rand() * 100);
    if (only === 'canary' && !toCanary) continue; // same draws as a full run, so the same canary records
    yield {
      task_id: `sim-${seed >>> 0}-${i}`,
      domain,
      url: `https://${domain}/post/${i}`,
      action_attempted: action,
      result,
      failure_reason: result === 'success' ? null : result === 'error' ? 'timeout' : 'rejected',
      execution_time: execution,
      model,
      model_version: side.version,
      response_time_ms: responseTime,
      timestamp: new Date(Math.floor(t + execution * 1000)).toISOString(),
      features: { domain_authority: authority },
    };
  }
}
