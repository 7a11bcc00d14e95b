// The Prometheus metric source, for fleets of `mlops serve` replicas: PromQL instant queries over
// the HTTP API (/api/v1/query) against the counters in prometheus-names.ts.
//
// Counting exactly: Prometheus's increase() extrapolates to the window's edges, so it returns 10.8
// for 10 outcomes, and the sequential test needs integers. Per series the source takes the last
// value in the window minus the value at its start (or the last value alone for a series born
// inside the window: a fresh process counts from 0), which is exact while no counter resets. For
// a series that did reset inside the window (a replica restarted) the difference is meaningless,
// so that series falls back to increase(), rounded, and the result is flagged `approximate`.
// Series of replicas that stopped inside the window still count (last_over_time sees them).
// A server should create each label combination at 0 when it loads a version, so that the first
// outcome is an increment Prometheus sees rather than the series' first sample.
import { MlopsError } from '../errors.js';
import { type Count, type StreamCounts, emptyStreamCounts } from '../canary/sprt.js';
import { OUTCOMES_TOTAL, RESPONSE_TIME_MS } from './prometheus-names.js';
import type { MetricSource, StreamsRequest, StreamsResult } from './source.js';

export interface PrometheusSourceOptions {
  /** Base URL of Prometheus (or a compatible API such as Thanos or Mimir), e.g. http://prometheus:9090 */
  url: string;
  /** Extra request headers (authorization for a managed Prometheus). */
  headers?: Record<string, string>;
  /** Per-query timeout (default 10 s). */
  timeoutMs?: number;
  /** Injected fetch (tests). */
  fetch?: typeof fetch;
}

interface Sample {
  metric: Record<string, string>;
  value: number;
}

export function prometheusSource(options: PrometheusSourceOptions): MetricSource {
  return {
    kind: 'prometheus',
    streams: (request) => readPrometheusStreams(options, request),
  };
}

export async function readPrometheusStreams(options: PrometheusSourceOptions, request: StreamsRequest): Promise<StreamsResult> {
  const startMs = toMs(request.startedAt, 'startedAt');
  const atMs = toMs(request.at, 'at');
  const warnings: string[] = [];
  let approximate = false;
  const bounds = { up: request.thresholds.canary.max_response_time_ms, down: request.thresholds.rollback.max_response_time_ms };
  if (atMs <= startMs) {
    // An empty window: nothing to count (and a zero-length range is not valid PromQL).
    return { source: 'prometheus', ...emptyStreamCounts(), ...(request.production ? { production: emptyStreamCounts() } : {}), warnings, approximate: false };
  }
  const windowS = Math.max(1, Math.floor((atMs - startMs) / 1000));
  const read = async (version: string): Promise<StreamCounts> => {
    const sel = `{model=${quote(request.model)},version=${quote(version)}}`;
    const [outcomes, buckets] = await Promise.all([
      query(options, exactIncrease(`${OUTCOMES_TOTAL}${sel}`, windowS, 'result'), atMs),
      query(options, exactIncrease(`${RESPONSE_TIME_MS}_bucket${sel}`, windowS, 'le'), atMs),
    ]);
    const counts = emptyStreamCounts();
    const byResult: Record<string, number> = {};
    for (const s of [...outcomes.exact, ...outcomes.approx]) {
      const r = s.metric.result ?? '';
      byResult[r] = (byResult[r] ?? 0) + s.value;
    }
    if (outcomes.approx.length || buckets.approx.length) approximate = true;
    const unknown = Object.keys(byResult).filter((r) => r !== 'success' && r !== 'failure' && r !== 'error');
    if (unknown.length) warnings.push(`${OUTCOMES_TOTAL} for ${version} has result labels other than success|failure|error (${unknown.join(', ')}); not counted`);
    const success = Math.round(byResult.success ?? 0);
    const failure = Math.round(byResult.failure ?? 0);
    const error = Math.round(byResult.error ?? 0);
    counts.S = { n: success + failure + error, k: failure + error };
    counts.E = { n: success + failure + error, k: error };
    const byLe = new Map<number, number>();
    for (const s of [...buckets.exact, ...buckets.approx]) {
      const le = s.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.metric.le);
      if (s.metric.le === undefined || Number.isNaN(le)) throw garbage(`a ${RESPONSE_TIME_MS}_bucket series without a numeric le label`);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    }
    if (byLe.size > 0) {
      const total = byLe.get(Number.POSITIVE_INFINITY);
      if (total === undefined) throw garbage(`${RESPONSE_TIME_MS}_bucket has no le="+Inf" bucket`);
      const above = (bound: number): Count => {
        const within = byLe.get(bound);
        if (within === undefined) {
          throw new MlopsError('METRICS_SOURCE_FAILED', `${RESPONSE_TIME_MS} has no bucket boundary at ${bound} ms, so records above it cannot be counted`, {
            hint: `Export the histogram with ${bound} among its buckets (responseTimeBuckets() in src/metrics/prometheus-names.ts adds the configured bounds), or set the latency thresholds to existing boundaries: ${[...byLe.keys()].filter(Number.isFinite).join(', ')}.`,
            data: { bound, boundaries: [...byLe.keys()].filter(Number.isFinite) },
          });
        }
        const n = Math.round(total);
        return { n, k: Math.min(n, Math.max(0, Math.round(total - within))) };
      };
      counts.Lup = above(bounds.up);
      counts.Ldown = above(bounds.down);
    }
    return counts;
  };
  const [canary, production] = await Promise.all([read(request.version), request.production ? read(request.production) : Promise.resolve(undefined)]);
  if (approximate) warnings.push('a counter reset inside the window (a restarted replica): those series were counted with increase(), rounded');
  return { source: 'prometheus', ...canary, ...(production ? { production } : {}), warnings, approximate };
}

/**
 * PromQL for the exact increase of each series of `selector` over the last `windowS` seconds,
 * summed by `by`. Series that reset in the window are left out here and queried with increase().
 */
export function exactIncrease(selector: string, windowS: number, by: string): { exact: string; approx: string } {
  const range = `${selector}[${windowS}s]`;
  const resets = `(resets(${range}) > 0)`;
  return {
    exact: `sum by (${by}) (((last_over_time(${range}) - ${selector} offset ${windowS}s) or last_over_time(${range})) unless ${resets})`,
    approx: `sum by (${by}) (increase(${range}) and ${resets})`,
  };
}

async function query(options: PrometheusSourceOptions, q: { exact: string; approx: string }, atMs: number): Promise<{ exact: Sample[]; approx: Sample[] }> {
  const [exact, approx] = await Promise.all([instantQuery(options, q.exact, atMs), instantQuery(options, q.approx, atMs)]);
  return { exact, approx };
}

/** One instant query; every failure is METRICS_SOURCE_FAILED naming the URL and what went wrong. */
export async function instantQuery(options: PrometheusSourceOptions, promql: string, atMs: number): Promise<Sample[]> {
  const base = options.url.replace(/\/+$/, '');
  const url = `${base}/api/v1/query`;
  const body = new URLSearchParams({ query: promql, time: (atMs / 1000).toFixed(3) });
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  let text: string;
  try {
    // POST keeps long queries out of URL length limits; the API accepts form bodies.
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...options.headers },
      body: body.toString(),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    text = await res.text();
  } catch (cause) {
    const e = cause as Error;
    const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${options.timeoutMs ?? 10_000} ms` : `${e.message}${(e.cause as Error | undefined)?.message ? ` (${(e.cause as Error).message})` : ''}`;
    throw new MlopsError('METRICS_SOURCE_FAILED', `Prometheus at ${base} did not answer: ${why}`, {
      cause,
      hint: 'Check canary.source.url (or the variable canary.source.url_env names) and that Prometheus is reachable from here.',
      data: { url: base },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw garbage(`HTTP ${res.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`, base);
  }
  const doc = json as { status?: unknown; error?: unknown; errorType?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (!res.ok || doc?.status !== 'success') {
    const detail = typeof doc?.error === 'string' ? `${String(doc.errorType ?? 'error')}: ${doc.error}` : `status ${JSON.stringify(doc?.status)}`;
    throw new MlopsError('METRICS_SOURCE_FAILED', `Prometheus at ${base} answered HTTP ${res.status}, ${detail}`, {
      hint: res.status === 401 || res.status === 403 ? 'Pass credentials in the source headers.' : 'Check the Prometheus server and its logs.',
      data: { url: base, status: res.status },
    });
  }
  if (doc.data?.resultType !== 'vector' || !Array.isArray(doc.data.result)) throw garbage(`expected a vector result, got ${JSON.stringify(doc.data?.resultType)}`, base);
  return doc.data.result.map((r: unknown) => {
    const item = r as { metric?: unknown; value?: unknown };
    if (typeof item?.metric !== 'object' || item.metric === null || !Array.isArray(item.value) || item.value.length !== 2 || typeof item.value[1] !== 'string') {
      throw garbage(`a result item is not {metric, value: [time, "number"]}: ${JSON.stringify(r).slice(0, 120)}`, base);
    }
    const value = Number(item.value[1]);
    if (!Number.isFinite(value) || value < 0) throw garbage(`a count is ${JSON.stringify(item.value[1])}`, base);
    return { metric: item.metric as Record<string, string>, value };
  });
}

function garbage(what: string, url?: string): MlopsError {
  return new MlopsError('METRICS_SOURCE_FAILED', `Prometheus${url ? ` at ${url}` : ''} returned an unusable answer: ${what}`, {
    hint: 'Point canary.source.url at the Prometheus HTTP API (not at an exporter or a proxy page).',
    data: url ? { url } : undefined,
  });
}

/** A PromQL string literal. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function toMs(v: Date | string | number, what: string): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new MlopsError('INVALID_ARGUMENT', `${what} is not a valid instant: ${String(v)}`);
  return ms;
}
