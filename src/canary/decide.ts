// The canary verdict (SPEC 6.5): promote, roll back, keep watching, or hold as inconclusive, from
// the stream counts, the configuration and the evaluation instant. Pure: the clock comes in as
// `now`, the counts from a metric source.
import { MlopsError } from '../errors.js';
import {
  type CanaryRuleConfig,
  type Count,
  type Hypotheses,
  type StreamCounts,
  type StreamName,
  PROMOTE_STREAMS,
  ROLLBACK_STREAMS,
  STREAM_NAMES,
  logLikelihoodRatio,
  samplesToCross,
  sprtBounds,
  streamHypotheses,
} from './sprt.js';

export type Verdict = 'promote' | 'rollback' | 'continue' | 'inconclusive';
export type CanaryMethod = 'sprt' | 'threshold';

/**
 * A stream's standing under the chosen method: `bad` is evidence for a rollback, `good` for a
 * promotion (enough samples included), `undecided` neither yet, `no-data` without records.
 * Lup is never `bad` and Ldown never `good`: each only plays one role (see `role`).
 */
export type StreamState = 'bad' | 'good' | 'undecided' | 'no-data';

export interface StreamVerdict extends Count, Hypotheses {
  /** k / n, or null without records. */
  rate: number | null;
  /** Λ, the log-likelihood ratio of p_bad against p_good (0 without records). */
  llr: number;
  /** SPRT: Λ ≤ this (and n ≥ min_samples) counts as good; null for Ldown, which never promotes. */
  promote_bound: number | null;
  /** SPRT: Λ ≥ this rolls back; null for Lup, which never rolls back. */
  rollback_bound: number | null;
  /** Threshold method: a rate at or under this (with n ≥ min_samples) is good; null for Ldown. */
  good_limit: number | null;
  /** Threshold method: a rate above this rolls back; null for Lup. */
  bad_limit: number | null;
  role: 'both' | 'promote' | 'rollback';
  state: StreamState;
}

export interface CanaryVerdict {
  verdict: Verdict;
  method: CanaryMethod;
  /** The evaluation instant, ISO 8601 UTC. */
  at: string;
  started_at: string;
  elapsed_hours: number;
  window_hours: number;
  window_passed: boolean;
  alpha: number;
  beta: number;
  min_samples: number;
  streams: Record<StreamName, StreamVerdict>;
  reasons: string[];
}

export interface DecideOptions {
  /** The evaluation instant (`--at`, or the caller's clock). */
  now: Date | string | number;
  /** deployments.canary.started_at. */
  startedAt: Date | string | number;
  /** Overrides config.canary.method. */
  method?: CanaryMethod;
}

const LABEL: Record<StreamName, string> = {
  S: 'S (not success)',
  E: 'E (errors)',
  Lup: 'L↑ (latency over the canary bound)',
  Ldown: 'L↓ (latency over the rollback bound)',
};

/**
 * Decides a canary.
 *
 * `sprt` (default), SPEC 6.5: roll back as soon as Λ ≥ ln(1/α) on S, E or L↓; once the window
 * (`duration_hours`) has passed, promote when S, E and L↑ all have Λ ≤ ln(β) and n ≥ min_samples;
 * otherwise `continue` inside the window and `inconclusive` after it. Missing data never rolls
 * back: Λ is 0 without records.
 *
 * `threshold`, the simple rule kept for comparison: nothing is judged before the window ends
 * (`continue`); at and after its end, point estimates: roll back when S or E has a rate above its
 * rollback threshold (success rate under rollback.min_success_rate, error rate over
 * rollback.max_error_rate) or when more than 1 − q of the response times exceed
 * rollback.max_response_time_ms (the empirical q-quantile is over the bound), needing only one
 * record; promote when S, E and L↑ are within the canary thresholds and each has n ≥ min_samples;
 * else inconclusive. Its false-rollback rate is not controlled (see the decision benchmark).
 */
export function decideCanary(streams: StreamCounts, config: CanaryRuleConfig, options: DecideOptions): CanaryVerdict {
  checkCounts(streams);
  const method: CanaryMethod = options.method ?? config.canary.method ?? 'sprt';
  if (method !== 'sprt' && method !== 'threshold') {
    throw new MlopsError('CONFIG_INVALID', `canary.method must be sprt or threshold, got ${String(method)}`, { hint: 'Use "sprt" (default) or "threshold".' });
  }
  const nowMs = toMs(options.now, 'now');
  const startMs = toMs(options.startedAt, 'startedAt');
  const { alpha, beta, min_samples: minSamples, duration_hours: windowHours } = config.canary;
  const hyp = streamHypotheses(config);
  const bounds = sprtBounds({ alpha, beta });
  const elapsedHours = (nowMs - startMs) / 3_600_000;
  const windowPassed = elapsedHours >= windowHours;

  const entries = {} as Record<StreamName, StreamVerdict>;
  for (const name of STREAM_NAMES) {
    const count = streams[name];
    const h = hyp[name];
    const canRollback = ROLLBACK_STREAMS.includes(name);
    const canPromote = PROMOTE_STREAMS.includes(name);
    const llr = logLikelihoodRatio(count, h);
    const rate = count.n > 0 ? count.k / count.n : null;
    // The threshold method judges latency by the empirical q-quantile, which is over a bound
    // exactly when more than 1 − q (the L streams' p_good) of the records are, on both sides.
    const goodLimit = canPromote ? h.p_good : null;
    const badLimit = canRollback ? (name === 'Ldown' ? h.p_good : h.p_bad) : null;
    let state: StreamState;
    if (count.n === 0) state = 'no-data';
    else if (method === 'sprt') {
      if (canRollback && llr >= bounds.rollback) state = 'bad';
      else if (canPromote && llr <= bounds.promote && count.n >= minSamples) state = 'good';
      else state = 'undecided';
    } else {
      const limits = thresholdLimits(name, config);
      if (limits.bad !== null && limits.bad(count)) state = 'bad';
      else if (limits.good !== null && limits.good(count) && count.n >= minSamples) state = 'good';
      else state = 'undecided';
    }
    entries[name] = {
      n: count.n,
      k: count.k,
      rate,
      llr,
      p_good: h.p_good,
      p_bad: h.p_bad,
      promote_bound: canPromote ? bounds.promote : null,
      rollback_bound: canRollback ? bounds.rollback : null,
      good_limit: goodLimit,
      bad_limit: badLimit,
      role: canRollback && canPromote ? 'both' : canPromote ? 'promote' : 'rollback',
      state,
    };
  }

  const reasons: string[] = [];
  const base = {
    method,
    at: new Date(nowMs).toISOString(),
    started_at: new Date(startMs).toISOString(),
    elapsed_hours: elapsedHours,
    window_hours: windowHours,
    window_passed: windowPassed,
    alpha,
    beta,
    min_samples: minSamples,
    streams: entries,
  };
  const done = (verdict: Verdict): CanaryVerdict => ({ verdict, ...base, reasons });

  if (elapsedHours < 0) {
    reasons.push(`the evaluation instant ${base.at} is before the canary started (${base.started_at}): nothing to judge yet`);
    return done('continue');
  }

  // The threshold method only speaks at the window's end; the sequential test at any time.
  const judgeRollback = method === 'sprt' || windowPassed;
  const bad = judgeRollback ? ROLLBACK_STREAMS.filter((s) => entries[s].state === 'bad') : [];
  if (bad.length) {
    for (const s of bad) reasons.push(describeBad(s, entries[s], method));
    return done('rollback');
  }

  const hoursLeft = windowHours - elapsedHours;
  if (!windowPassed) {
    reasons.push(
      `${fmt(elapsedHours, 1)} of ${windowHours} h elapsed; ` +
        (method === 'sprt' ? 'no stream has crossed its rollback bound' : 'the threshold method judges at the end of the window') +
        `; ${fmt(hoursLeft, 1)} h left before a promotion can be considered`,
    );
    for (const s of STREAM_NAMES) if (entries[s].n === 0) reasons.push(`${LABEL[s]}: no records yet (no data never causes a rollback)`);
    return done('continue');
  }

  const notGood = PROMOTE_STREAMS.filter((s) => entries[s].state !== 'good');
  if (notGood.length === 0) {
    for (const s of PROMOTE_STREAMS) reasons.push(describeGood(s, entries[s], method));
    return done('promote');
  }
  for (const s of notGood) reasons.push(describeUndecided(s, entries[s], method, minSamples, hyp[s]));
  reasons.push('the window has passed without a decision: hold the canary at its weight and alert (inconclusive)');
  return done('inconclusive');
}

/**
 * The threshold method's comparisons, made on the configured numbers themselves (success rate
 * against min_success_rate, share within the latency bound against q) because 1 − 0.8 is not
 * 0.2 in floating point and a canary exactly at a threshold must count as within it.
 */
function thresholdLimits(name: StreamName, config: CanaryRuleConfig): { good: ((c: Count) => boolean) | null; bad: ((c: Count) => boolean) | null } {
  const c = config.canary.thresholds;
  const r = config.rollback.thresholds;
  const q = config.canary.latency_quantile;
  const ok = (x: Count) => (x.n - x.k) / x.n;
  const ev = (x: Count) => x.k / x.n;
  switch (name) {
    case 'S':
      return { good: (x) => ok(x) >= c.min_success_rate, bad: (x) => ok(x) < r.min_success_rate };
    case 'E':
      return { good: (x) => ev(x) <= c.max_error_rate, bad: (x) => ev(x) > r.max_error_rate };
    case 'Lup':
      return { good: (x) => ok(x) >= q, bad: null };
    case 'Ldown':
      return { good: null, bad: (x) => ok(x) < q };
  }
}

function describeBad(s: StreamName, e: StreamVerdict, method: CanaryMethod): string {
  const counts = `${e.k} of ${e.n} (${pct(e.rate!)})`;
  if (method === 'sprt') {
    return `${LABEL[s]}: Λ = ${fmt(e.llr, 3)} ≥ ln(1/α) = ${fmt(e.rollback_bound!, 3)} with ${counts}; rollback rate ${pct(e.p_bad)}, canary rate ${pct(e.p_good)}`;
  }
  return `${LABEL[s]}: ${counts} is above the rollback limit ${pct(e.bad_limit!)}`;
}

function describeGood(s: StreamName, e: StreamVerdict, method: CanaryMethod): string {
  const counts = `${e.k} of ${e.n} (${pct(e.rate!)})`;
  if (method === 'sprt') return `${LABEL[s]}: Λ = ${fmt(e.llr, 3)} ≤ ln(β) = ${fmt(e.promote_bound!, 3)} with ${counts}`;
  return `${LABEL[s]}: ${counts} is within the canary limit ${pct(e.good_limit!)}`;
}

function describeUndecided(s: StreamName, e: StreamVerdict, method: CanaryMethod, minSamples: number, h: Hypotheses): string {
  if (e.n === 0) return `${LABEL[s]}: no records (a canary without traffic is never rolled back, nor promoted)`;
  const parts: string[] = [];
  if (e.n < minSamples) parts.push(`n = ${e.n} < min_samples ${minSamples}`);
  if (method === 'sprt') {
    if (e.llr > e.promote_bound!) {
      parts.push(
        `Λ = ${fmt(e.llr, 3)} has not reached ln(β) = ${fmt(e.promote_bound!, 3)} ` +
          `(a stream without a single event needs ${samplesToCross(h, e.promote_bound!)} records to get there)`,
      );
    }
  } else if (e.rate! > e.good_limit!) {
    parts.push(`rate ${pct(e.rate!)} is above the canary limit ${pct(e.good_limit!)} but not above the rollback limit`);
  }
  return `${LABEL[s]}: ${parts.join('; ')}`;
}

function checkCounts(streams: StreamCounts): void {
  const bad: string[] = [];
  if (typeof streams !== 'object' || streams === null) bad.push('streams must be an object with S, E, Lup and Ldown');
  else {
    for (const s of STREAM_NAMES) {
      const c = streams[s];
      if (!c || !Number.isSafeInteger(c.n) || !Number.isSafeInteger(c.k) || c.k < 0 || c.n < c.k) {
        bad.push(`${s}: needs integers 0 <= k <= n, got ${JSON.stringify(c)}`);
      }
    }
  }
  if (bad.length) {
    throw new MlopsError('INVALID_ARGUMENT', `invalid stream counts: ${bad.join('; ')}`, { hint: 'Each stream is { n, k }: records and events.' });
  }
}

function toMs(v: Date | string | number, what: string): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) {
    throw new MlopsError('INVALID_ARGUMENT', `${what} is not a valid instant: ${String(v)}`, { hint: 'Use an ISO 8601 time such as 2026-11-29T09:12:00Z.' });
  }
  return ms;
}

function fmt(x: number, digits: number): string {
  return x.toFixed(digits);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;
}
