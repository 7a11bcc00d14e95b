// Wald's sequential probability ratio test over the canary's Bernoulli streams (SPEC 6.5): the
// hypotheses each stream tests, its log-likelihood ratio, and the two bounds. Pure arithmetic.
import { MlopsError } from '../errors.js';

/**
 * The streams: S counts outcomes that are not a success, E counts errors, Lup counts response
 * times above canary.max_response_time_ms (promotion side), Ldown above
 * rollback.max_response_time_ms (rollback side).
 */
export type StreamName = 'S' | 'E' | 'Lup' | 'Ldown';
export const STREAM_NAMES: readonly StreamName[] = ['S', 'E', 'Lup', 'Ldown'];

/** Streams whose Λ can trigger a rollback, and those that must all look good for a promotion. */
export const ROLLBACK_STREAMS: readonly StreamName[] = ['S', 'E', 'Ldown'];
export const PROMOTE_STREAMS: readonly StreamName[] = ['S', 'E', 'Lup'];

/** n records, of which k are events (not a success / an error / above the latency bound). */
export interface Count {
  n: number;
  k: number;
}

export type StreamCounts = Record<StreamName, Count>;

export function emptyStreamCounts(): StreamCounts {
  return { S: { n: 0, k: 0 }, E: { n: 0, k: 0 }, Lup: { n: 0, k: 0 }, Ldown: { n: 0, k: 0 } };
}

/** Event rate of a healthy canary (H0) and of one to roll back (H1); p_good < p_bad. */
export interface Hypotheses {
  p_good: number;
  p_bad: number;
}

interface Thresholds {
  min_success_rate: number;
  max_error_rate: number;
  max_response_time_ms: number;
}

/** The configuration the decision reads: the canary and rollback sections of mlops.config.json. */
export interface CanaryRuleConfig {
  canary: {
    duration_hours: number;
    method?: 'sprt' | 'threshold';
    alpha: number;
    beta: number;
    min_samples: number;
    latency_quantile: number;
    thresholds: Thresholds;
  };
  rollback: { thresholds: Thresholds };
}

/**
 * The hypotheses of each stream, from the configuration:
 * S: 1 - canary.min_success_rate vs 1 - rollback.min_success_rate; E: canary.max_error_rate vs
 * rollback.max_error_rate; L (both bounds): 1 - q vs 2(1 - q) with q = canary.latency_quantile,
 * i.e. "the q-quantile is within the bound" vs "twice the allowed share is above it".
 */
export function streamHypotheses(config: CanaryRuleConfig): Record<StreamName, Hypotheses> {
  const c = config.canary.thresholds;
  const r = config.rollback.thresholds;
  const q = config.canary.latency_quantile;
  const L = { p_good: tidy(1 - q), p_bad: tidy(2 * (1 - q)) };
  const out: Record<StreamName, Hypotheses> = {
    S: { p_good: tidy(1 - c.min_success_rate), p_bad: tidy(1 - r.min_success_rate) },
    E: { p_good: c.max_error_rate, p_bad: r.max_error_rate },
    Lup: { ...L },
    Ldown: { ...L },
  };
  const bad: string[] = [];
  for (const name of STREAM_NAMES) {
    const { p_good, p_bad } = out[name];
    if (!(p_good > 0 && p_bad < 1 && p_good < p_bad)) {
      bad.push(`${name}: needs 0 < good rate < bad rate < 1, got ${p_good} and ${p_bad}`);
    }
  }
  if (bad.length) {
    throw new MlopsError('CONFIG_INVALID', `the canary thresholds do not define a sequential test:\n${bad.map((b) => `  - ${b}`).join('\n')}`, {
      hint: 'Keep canary.thresholds strictly better than rollback.thresholds, rates strictly between 0 and 1, and latency_quantile between 0.5 and 1.',
      data: { problems: bad },
    });
  }
  return out;
}

// 1 − 0.8 is 0.19999999999999996 in binary floating point; 15 significant digits give back the
// rate the user meant (0.2), which is what --json shows and what the hand-computed tests use.
function tidy(x: number): number {
  return Number(x.toPrecision(15));
}

/** Λ's step for one event (positive) and for one non-event (negative). */
export function llrSteps({ p_good, p_bad }: Hypotheses): { event: number; nonEvent: number } {
  return { event: Math.log(p_bad / p_good), nonEvent: Math.log((1 - p_bad) / (1 - p_good)) };
}

/** Λ = k·ln(p_bad/p_good) + (n−k)·ln((1−p_bad)/(1−p_good)); 0 without data. */
export function logLikelihoodRatio({ n, k }: Count, h: Hypotheses): number {
  const { event, nonEvent } = llrSteps(h);
  // Written as two products rather than a running sum so the value is the same however the
  // counts were accumulated (incrementally, per hour, or in one fold).
  return (k === 0 ? 0 : k * event) + (n - k === 0 ? 0 : (n - k) * nonEvent);
}

/**
 * The bounds of SPEC 6.5: roll back at Λ ≥ ln(1/α), promote at Λ ≤ ln(β). (Wald's classic bounds
 * are ln((1−β)/α) and ln(β/(1−α)); these are slightly wider, hence slightly more conservative.)
 * exp(Λ) is a non-negative martingale with mean 1 under H0, so by Ville's inequality the chance
 * that Λ ever reaches ln(1/α) for a healthy canary is at most α, however often it is checked and
 * even though the test keeps watching after it could have promoted.
 */
export function sprtBounds({ alpha, beta }: { alpha: number; beta: number }): { promote: number; rollback: number } {
  if (!(alpha > 0 && alpha < 1 && beta > 0 && beta < 1)) {
    throw new MlopsError('CONFIG_INVALID', `canary.alpha and canary.beta must be between 0 and 1, got ${alpha} and ${beta}`, {
      hint: 'The defaults are alpha 0.01 and beta 0.05.',
    });
  }
  return { promote: Math.log(beta), rollback: Math.log(1 / alpha) };
}

/**
 * Fewest records that can move Λ from 0 across a bound: all events for the rollback bound, no
 * events for the promote bound. It tells a user why a low-traffic canary cannot conclude.
 */
export function samplesToCross(h: Hypotheses, bound: number): number {
  const { event, nonEvent } = llrSteps(h);
  if (bound >= 0) return Math.max(1, Math.ceil(bound / event - 1e-12));
  return Math.max(1, Math.ceil(bound / nonEvent - 1e-12));
}
