// The Prometheus series of one server, on a registry of its own (two servers in one process, as
// in tests, never share counters). The outcome series use the names the canary's Prometheus
// source queries (src/metrics/prometheus-names.ts); the rest describe serving itself.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
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

// The per-request series (predictions, their latency, HTTP requests) are kept in plain objects
// and handed to the registry at scrape time: prom-client hashes and validates the label set on
// every inc()/observe(), even through a child, which cost a server several microseconds per
// request. They follow prom-client's metric interface, so the registry renders them as its own.

interface Cell {
  labels: Record<string, string>;
  value: number;
}

class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, Cell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values (created at 0); add to its `value`. */
  cell(...values: string[]): Cell {
    const k = values.join('\0');
    let c = this.cells.get(k);
    if (!c) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      this.cells.set(k, (c = { labels, value: 0 }));
    }
    return c;
  }

  get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.cells.values()].map((c) => ({ labels: c.labels, value: c.value })) };
  }

  reset(): void {
    for (const c of this.cells.values()) c.value = 0;
  }
}

interface HistogramCell {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last slot is above the highest bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  cell(...values: string[]): HistogramCell {
    const k = values.join('\0');
    let c = this.cells.get(k);
    if (!c) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      this.cells.set(k, (c = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }));
    }
    return c;
  }

  observe(c: HistogramCell, v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    c.counts[i]!++;
    c.sum += v;
    c.count++;
  }

  get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const c of this.cells.values()) {
      let acc = 0;
      this.bounds.forEach((b, i) => {
        acc += c.counts[i]!;
        values.push({ labels: { le: b, ...c.labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const c of this.cells.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}

type PredictionChild = { ok: Cell; error: Cell; duration: HistogramCell };

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

  const predictions = new FastCounter(
    PREDICTIONS_TOTAL,
    'Predictions answered, by model, version, route (production|canary) and result (ok|error).',
    ['model', 'version', 'route', 'result'],
    registry,
  );
  const duration = new FastHistogram(
    PREDICTION_DURATION,
    'Time to answer one prediction (routing, featurization and inference), in seconds.',
    ['model', 'version', 'route'],
    DURATION_BUCKETS,
    registry,
  );
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
  const http = new FastCounter(HTTP_REQUESTS_TOTAL, 'HTTP requests by endpoint and status code.', ['endpoint', 'code'], registry);

  // Children cached per label set: the request path then skips prom-client's label hashing.
  const predictionChildren = new Map<string, PredictionChild>();
  const predictionChild = (model: string, version: string, route: string): PredictionChild => {
    const k = `${model}\0${version}\0${route}`;
    let c = predictionChildren.get(k);
    if (!c) {
      c = {
        ok: predictions.cell(model, version, route, 'ok'),
        error: predictions.cell(model, version, route, 'error'),
        duration: duration.cell(model, version, route),
      };
      predictionChildren.set(k, c);
    }
    return c;
  };
  const httpChildren = new Map<string, Cell>();
  const seen = new Set<string>();
  const initSeries = (model: string, version: string, route: string) => {
    const k = `${model}\0${version}\0${route}`;
    if (seen.has(k)) return;
    seen.add(k);
    // Series exist at 0 from the moment a version serves, so the first outcome is an increase
    // Prometheus can see (and the canary's exact-increase query counts it).
    for (const result of ['success', 'failure', 'error']) outcomes.labels(model, version, route, result).inc(0);
    responseTime.zero({ model, version, route });
    predictionChild(model, version, route); // cells start at 0
  };

  return {
    registry,
    prediction(model, version, route, seconds) {
      const c = predictionChild(model, version, route);
      c.ok.value++;
      duration.observe(c.duration, seconds);
    },
    predictionError(model, version, route, n = 1) {
      predictionChild(model, version, route).error.value += n;
    },
    outcome(model, version, route, result, responseTimeMs) {
      outcomes.labels(model, version, route, result).inc();
      if (responseTimeMs !== null) responseTime.labels(model, version, route).observe(responseTimeMs);
    },
    http(endpoint, status) {
      const k = `${endpoint} ${status}`;
      let c = httpChildren.get(k);
      if (!c) httpChildren.set(k, (c = http.cell(endpoint, String(status))));
      c.value++;
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
