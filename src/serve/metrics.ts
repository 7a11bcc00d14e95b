// The Prometheus series of one server, on a registry of its own (two servers in one process, as
// in tests, never share counters). The outcome series use the names the canary's Prometheus
// source queries (src/metrics/prometheus-names.ts); the rest describe serving itself.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  OUTCOME_LABELS,
  OUTCOMES_TOTAL,
  RESPONSE_TIME_LABELS,
  RESPONSE_TIME_MS,
  responseTimeBuckets,
} from '../metrics/prometheus-names.js';
import type { ServingStatus } from './model-pool.js';

export const PREDICTIONS_TOTAL = 'mlops_predictions_total';
export const PREDICTION_DURATION = 'mlops_prediction_duration_seconds';
export const VERSION_LOADED = 'mlops_model_version_loaded';
export const CANARY_WEIGHT = 'mlops_canary_weight';
export const LOAD_FAILURES_TOTAL = 'mlops_model_load_failures_total';
export const LOAD_FAILING = 'mlops_model_load_failing';
export const RELOADS_TOTAL = 'mlops_reloads_total';
export const HTTP_REQUESTS_TOTAL = 'mlops_http_requests_total';

/** Seconds: where one-record ONNX inference lives (sub-millisecond) up to a stalled request. */
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

type PredictionChild = { ok: Counter.Internal; error: Counter.Internal; duration: Histogram.Internal<string> };

export interface ServeMetrics {
  registry: Registry;
  /** Counts one answered prediction and its latency (seconds). */
  prediction(model: string, version: string, route: string, seconds: number): void;
  predictionError(model: string, version: string, route: string, n?: number): void;
  outcome(model: string, version: string, route: string, result: string, responseTimeMs: number | null): void;
  http(endpoint: string, status: number): void;
  loadFailure(model: string, version: string | null, code: string): void;
  reload(result: 'swapped' | 'unchanged' | 'failed'): void;
  /** Sets the loaded/weight/failing gauges from the pool's status (and zero-inits new series). */
  serving(status: ServingStatus): void;
}

export interface ServeMetricsOptions {
  /** Latency bounds of the canary configuration; they become histogram boundaries. */
  responseTimeBounds?: number[];
  /** Process metrics (CPU, memory, event loop lag) of prom-client, prefixed mlops_process_ (default true). */
  defaultMetrics?: boolean;
}

export function createServeMetrics(opts: ServeMetricsOptions = {}): ServeMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mlops_process_' });

  const predictions = new Counter({
    name: PREDICTIONS_TOTAL,
    help: 'Predictions answered, by model, version, route (production|canary) and result (ok|error).',
    labelNames: ['model', 'version', 'route', 'result'],
    registers,
  });
  const duration = new Histogram({
    name: PREDICTION_DURATION,
    help: 'Time to answer one prediction (routing, featurization and inference), in seconds.',
    labelNames: ['model', 'version', 'route'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const outcomes = new Counter({
    name: OUTCOMES_TOTAL,
    help: 'Outcomes reported, by model, version, route and result (success|failure|error); a task_id counts once.',
    labelNames: [...OUTCOME_LABELS],
    registers,
  });
  const responseTime = new Histogram({
    name: RESPONSE_TIME_MS,
    help: 'response_time_ms of reported outcomes (the model latency the worker saw), in milliseconds.',
    labelNames: [...RESPONSE_TIME_LABELS],
    buckets: responseTimeBuckets(opts.responseTimeBounds ?? []),
    registers,
  });
  const loaded = new Gauge({
    name: VERSION_LOADED,
    help: '1 for each version this server is serving, by model, version and stage.',
    labelNames: ['model', 'version', 'stage'],
    registers,
  });
  const weight = new Gauge({
    name: CANARY_WEIGHT,
    help: 'Share of keys routed to the canary version being served.',
    labelNames: ['model', 'version'],
    registers,
  });
  const failures = new Counter({
    name: LOAD_FAILURES_TOTAL,
    help: 'Versions (or deployments files) that failed to load, by model, version and error code.',
    labelNames: ['model', 'version', 'code'],
    registers,
  });
  const failing = new Gauge({
    name: LOAD_FAILING,
    help: '1 while a pointed version (or deployments.yaml, version="") cannot be loaded and the previous set keeps serving.',
    labelNames: ['model', 'version'],
    registers,
  });
  const reloads = new Counter({
    name: RELOADS_TOTAL,
    help: 'Registry checks by result: swapped (a model changed what it serves), unchanged, failed.',
    labelNames: ['result'],
    registers,
  });
  const http = new Counter({
    name: HTTP_REQUESTS_TOTAL,
    help: 'HTTP requests by endpoint and status code.',
    labelNames: ['endpoint', 'code'],
    registers,
  });

  // Children cached per label set: the request path then skips prom-client's label hashing.
  const predictionChildren = new Map<string, PredictionChild>();
  const predictionChild = (model: string, version: string, route: string): PredictionChild => {
    const k = `${model}\0${version}\0${route}`;
    let c = predictionChildren.get(k);
    if (!c) {
      c = {
        ok: predictions.labels(model, version, route, 'ok'),
        error: predictions.labels(model, version, route, 'error'),
        duration: duration.labels(model, version, route),
      };
      predictionChildren.set(k, c);
    }
    return c;
  };
  const httpChildren = new Map<string, Counter.Internal>();
  const seen = new Set<string>();
  const initSeries = (model: string, version: string, route: string) => {
    const k = `${model}\0${version}\0${route}`;
    if (seen.has(k)) return;
    seen.add(k);
    // Series exist at 0 from the moment a version serves, so the first outcome is an increase
    // Prometheus can see (and the canary's exact-increase query counts it).
    for (const result of ['success', 'failure', 'error']) outcomes.labels(model, version, route, result).inc(0);
    responseTime.zero({ model, version, route });
    const c = predictionChild(model, version, route);
    c.ok.inc(0);
    c.error.inc(0);
    duration.zero({ model, version, route });
  };

  return {
    registry,
    prediction(model, version, route, seconds) {
      const c = predictionChild(model, version, route);
      c.ok.inc();
      c.duration.observe(seconds);
    },
    predictionError(model, version, route, n = 1) {
      predictionChild(model, version, route).error.inc(n);
    },
    outcome(model, version, route, result, responseTimeMs) {
      outcomes.labels(model, version, route, result).inc();
      if (responseTimeMs !== null) responseTime.labels(model, version, route).observe(responseTimeMs);
    },
    http(endpoint, status) {
      const k = `${endpoint} ${status}`;
      let c = httpChildren.get(k);
      if (!c) httpChildren.set(k, (c = http.labels(endpoint, String(status))));
      c.inc();
    },
    loadFailure(model, version, code) {
      failures.labels(model, version ?? '', code).inc();
    },
    reload(result) {
      reloads.labels(result).inc();
    },
    serving(status) {
      loaded.reset();
      weight.reset();
      failing.reset();
      for (const m of Object.values(status.models)) {
        const s = m.serving;
        if (s?.production) {
          loaded.labels(m.model, s.production, 'production').set(1);
          initSeries(m.model, s.production, 'production');
        }
        if (s?.canary) {
          loaded.labels(m.model, s.canary.version, 'canary').set(1);
          weight.labels(m.model, s.canary.version).set(s.canary.weight);
          initSeries(m.model, s.canary.version, 'canary');
        }
        for (const f of m.failures) failing.labels(m.model, f.version ?? '').set(1);
      }
    },
  };
}
