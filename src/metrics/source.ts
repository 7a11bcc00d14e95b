// Metric sources: where the canary's stream counts come from. One interface, two implementations:
// the embedded outcome store (outcome-source.ts) and Prometheus (prometheus-source.ts).
import type { StreamCounts } from '../canary/sprt.js';
import type { OutcomeAggregate } from '../canary/aggregate.js';

export interface StreamsRequest {
  model: string;
  /** The canary version. */
  version: string;
  /** The production version, for the comparison series (omitted or null: none). */
  production?: string | null;
  /** deployments.canary.started_at */
  startedAt: Date | string | number;
  /** The evaluation instant (`--at`, or now). */
  at: Date | string | number;
  /** The latency bounds of L↑ and L↓: canary and rollback max_response_time_ms. */
  thresholds: { canary: { max_response_time_ms: number }; rollback: { max_response_time_ms: number } };
  /** Quantile of the hourly latency charts (outcome store only; default 0.95). */
  quantile?: number;
}

export interface StreamsResult extends StreamCounts {
  source: 'outcomes' | 'prometheus';
  /** The production version's counts over the same window, when one was asked for. */
  production?: StreamCounts;
  /** Things worth telling the user that did not stop the read (skipped lines, estimated counts). */
  warnings: string[];
  /** Prometheus: true when a counter reset forced extrapolated counts (see prometheus-source.ts). */
  approximate?: boolean;
  /** Outcome store: the whole fold, with skip counts and hourly buckets for the dashboard. */
  aggregate?: OutcomeAggregate;
}

export interface MetricSource {
  readonly kind: 'outcomes' | 'prometheus';
  /** The stream counts of a canary version over [startedAt, at]. Fails with METRICS_SOURCE_FAILED. */
  streams(request: StreamsRequest): Promise<StreamsResult>;
}
