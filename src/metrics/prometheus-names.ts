// The Prometheus series `mlops serve` exports and the canary's Prometheus source queries. Kept in
// a file of their own, free of imports, so the server and the source cannot drift apart.

/** Counter of outcomes: labels model, version, route (canary|production), result (success|failure|error). */
export const OUTCOMES_TOTAL = 'mlops_outcomes_total';

/**
 * Histogram of the model's response time per outcome, in ms (`_bucket` with `le`, `_count`,
 * `_sum`): labels model, version, route. The canary's latency bounds
 * (canary.thresholds.max_response_time_ms and rollback.thresholds.max_response_time_ms, 100 and
 * 200 by default) must be bucket boundaries, or the source cannot count records above them.
 */
export const RESPONSE_TIME_MS = 'mlops_outcome_response_time_ms';

export const OUTCOME_LABELS = ['model', 'version', 'route', 'result'] as const;
export const RESPONSE_TIME_LABELS = ['model', 'version', 'route'] as const;

/** Default histogram buckets in ms: fine where model latency lives, including 100 and 200. */
export const DEFAULT_RESPONSE_TIME_BUCKETS_MS: readonly number[] = [1, 2.5, 5, 10, 25, 50, 100, 150, 200, 300, 500, 1000, 2500, 5000, 10000];

/**
 * The default buckets plus the configured latency bounds, sorted: what the server should pass
 * to prom-client's Histogram so that any configuration's bounds are boundaries.
 */
export function responseTimeBuckets(bounds: readonly number[] = []): number[] {
  const all = new Set<number>(DEFAULT_RESPONSE_TIME_BUCKETS_MS);
  for (const b of bounds) if (Number.isFinite(b) && b > 0) all.add(b);
  return [...all].sort((a, b) => a - b);
}
