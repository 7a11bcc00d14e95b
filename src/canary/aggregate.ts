// Folds outcome records into what the canary decision and the dashboard need: the canary's four
// stream counts (SPEC 6.5), the same for production, hourly buckets for charts, and Λ over time.
// Pure: records come in one at a time (from any reader), the window's ends come in as arguments.
import { MlopsError } from '../errors.js';
import { FingerprintSet, fingerprintString } from './fingerprint.js';
import {
  type CanaryRuleConfig,
  type Count,
  type StreamCounts,
  type StreamName,
  STREAM_NAMES,
  logLikelihoodRatio,
  streamHypotheses,
} from './sprt.js';

export const HOUR_MS = 3_600_000;

/** Which series a record belongs to. */
export const KIND_OTHER = 0;
export const KIND_CANARY = 1;
export const KIND_PRODUCTION = 2;
export type SeriesKind = typeof KIND_OTHER | typeof KIND_CANARY | typeof KIND_PRODUCTION;

export const RESULT_SUCCESS = 0;
export const RESULT_FAILURE = 1;
export const RESULT_ERROR = 2;
export type ResultCode = typeof RESULT_SUCCESS | typeof RESULT_FAILURE | typeof RESULT_ERROR;

export interface AggregateOptions {
  model: string;
  /** The canary version. */
  version: string;
  /**
   * The production version to compare with. Omitted: every other version of the model counts as
   * production. null: no production series.
   */
  production?: string | null;
  /** deployments.canary.started_at: records before it are skipped (and counted). */
  startedAt: Date | string | number;
  /** The evaluation instant: records after it are skipped as clock skew (and counted). */
  at: Date | string | number;
  /** Response-time bounds in ms: up = canary.max_response_time_ms, down = rollback.max_response_time_ms. */
  bounds: { up: number; down: number };
  /** Quantile of the hourly latency charts (default 0.95, the canary's latency_quantile). */
  quantile?: number;
}

export interface SkipCounts {
  /** Timestamp after `at`: a writer's clock ahead of ours. */
  future: number;
  /** Timestamp before the canary started. */
  before_start: number;
  /** A task_id already counted (the first record in store order wins). */
  duplicate: number;
}

export interface SeriesHour {
  n: number;
  success_rate: number | null;
  error_rate: number | null;
  /** Records with a response time. */
  latency_n: number;
  /** The hour's latency quantile in ms, from a log-scale histogram (within 2.5%), or null. */
  latency_quantile_ms: number | null;
  streams: StreamCounts;
}

export interface HourlyBucket {
  /** Hours since started_at: bucket h holds [started_at + h, started_at + h + 1). */
  hour: number;
  start: string;
  end: string;
  canary: SeriesHour;
  production: SeriesHour | null;
}

export interface OutcomeAggregate {
  model: string;
  version: string;
  production: string | null;
  started_at: string;
  at: string;
  quantile: number;
  bounds: { up: number; down: number };
  /** The canary's stream counts, ready for decideCanary. */
  canary: StreamCounts;
  /** The production version's counts over the same window (null when production is null). */
  production_streams: StreamCounts | null;
  skipped: {
    canary: SkipCounts;
    production: SkipCounts;
    /** Records that are not valid outcomes (bad JSON, missing task_id, result or timestamp). */
    invalid: number;
    /** A last line without its newline: a write in progress, read next time. */
    torn: number;
  };
  /** Records of other models or versions. */
  other: number;
  hourly: HourlyBucket[];
}

// Log-scale latency histogram: bin 0 holds [0, 0.01 ms], bin i holds (0.01·r^(i−1), 0.01·r^i],
// the last bin everything above ~1e7 ms. r = 1.05 bounds the quantile's relative error by 2.5%.
const LAT_MIN = 0.01;
const LAT_RATIO = 1.05;
const LOG_RATIO = Math.log(LAT_RATIO);
const LAT_BINS = Math.ceil(Math.log(1e9) / LOG_RATIO) + 2;

// Per-series accumulator slots.
const N = 0;
const K_S = 1;
const K_E = 2;
const N_L = 3;
const K_UP = 4;
const K_DOWN = 5;
const SLOTS = 6;

interface HourAcc {
  counts: Float64Array; // SLOTS for canary, then SLOTS for production
  hist: [Uint32Array | null, Uint32Array | null];
}

/**
 * The folding state. Feed records with `add` (objects) or `addObservation` (fields a fast reader
 * already extracted), then read `result()`. Each task_id counts once: the first in-window record
 * in the order records are fed (store order: shard file name, then line) wins; later ones are
 * counted as duplicates. Records outside [startedAt, at] are skipped before deduplication, so a
 * late duplicate of a record from the future cannot hide an in-window one. Memory grows with the
 * distinct in-window task ids (16 bytes each) and the hours of the window, never with the store.
 */
export class OutcomeAggregator {
  readonly model: string;
  readonly version: string;
  readonly production: string | null | undefined;
  readonly startMs: number;
  readonly atMs: number;
  readonly up: number;
  readonly down: number;
  readonly quantile: number;
  private readonly seen = new FingerprintSet(1 << 14);
  private readonly totals = [new Float64Array(SLOTS), new Float64Array(SLOTS)];
  private readonly skips: [SkipCounts, SkipCounts] = [
    { future: 0, before_start: 0, duplicate: 0 },
    { future: 0, before_start: 0, duplicate: 0 },
  ];
  private readonly hours: Array<HourAcc | undefined> = [];
  private invalid = 0;
  private torn = 0;
  private otherCount = 0;

  constructor(options: AggregateOptions) {
    this.model = options.model;
    this.version = options.version;
    this.production = options.production;
    this.startMs = instant(options.startedAt, 'startedAt');
    this.atMs = instant(options.at, 'at');
    this.up = options.bounds.up;
    this.down = options.bounds.down;
    this.quantile = options.quantile ?? 0.95;
    if (!(this.up >= 0 && this.down >= 0) || !(this.quantile > 0 && this.quantile < 1)) {
      throw new MlopsError('INVALID_ARGUMENT', `latency bounds must be non-negative and the quantile in (0, 1), got ${this.up}, ${this.down}, ${this.quantile}`);
    }
  }

  /** The series of a record from its model and model_version fields (null when absent). */
  kindOf(model: string | null | undefined, version: string | null | undefined): SeriesKind {
    // Records without a model field match: single-model stores written before the field existed.
    if (model !== null && model !== undefined && model !== this.model) return KIND_OTHER;
    if (version === this.version) return KIND_CANARY;
    if (version === null || version === undefined) return KIND_OTHER;
    if (this.production === undefined) return KIND_PRODUCTION;
    return version === this.production ? KIND_PRODUCTION : KIND_OTHER;
  }

  /**
   * Folds one record object (SPEC 4 fields); anything that is not a valid outcome counts as
   * invalid. Returns false for an invalid record.
   */
  add(record: unknown): boolean {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      this.invalid++;
      return false;
    }
    const r = record as Record<string, unknown>;
    const model = r.model;
    const version = r.model_version;
    const kind = this.kindOf(typeof model === 'string' ? model : null, typeof version === 'string' ? version : null);
    if (kind === KIND_OTHER) {
      // A model field of the wrong type is still invalid rather than "another model".
      if ((model !== undefined && model !== null && typeof model !== 'string') || (version !== undefined && version !== null && typeof version !== 'string')) {
        this.invalid++;
        return false;
      }
      this.otherCount++;
      return true;
    }
    const result = resultCode(r.result);
    const ts = typeof r.timestamp === 'string' ? parseTimestamp(r.timestamp) : Number.NaN;
    const taskId = r.task_id;
    const rt = r.response_time_ms;
    if (result < 0 || Number.isNaN(ts) || typeof taskId !== 'string' || taskId === '' || (rt !== undefined && rt !== null && typeof rt !== 'number')) {
      this.invalid++;
      return false;
    }
    const [h1, h2] = fingerprintString(taskId);
    // A negative or non-finite response time cannot be judged against a bound: no latency.
    this.addObservation(kind, result as ResultCode, typeof rt === 'number' && rt >= 0 && Number.isFinite(rt) ? rt : Number.NaN, ts, h1, h2);
    return true;
  }

  /**
   * Folds one record already taken apart: its series, result, response time (NaN when absent),
   * timestamp in ms and task_id fingerprint. The hot path of the store reader.
   */
  addObservation(kind: SeriesKind, result: ResultCode, responseTimeMs: number, timestampMs: number, h1: number, h2: number): void {
    if (kind === KIND_OTHER) {
      this.otherCount++;
      return;
    }
    const s = kind - 1;
    if (timestampMs > this.atMs) {
      this.skips[s]!.future++;
      return;
    }
    if (timestampMs < this.startMs) {
      this.skips[s]!.before_start++;
      return;
    }
    if (!this.seen.add(h1, h2)) {
      this.skips[s]!.duplicate++;
      return;
    }
    const hour = Math.floor((timestampMs - this.startMs) / HOUR_MS);
    let acc = this.hours[hour];
    if (acc === undefined) {
      acc = { counts: new Float64Array(2 * SLOTS), hist: [null, null] };
      this.hours[hour] = acc;
    }
    const t = this.totals[s]!;
    const h = acc.counts;
    const o = s * SLOTS;
    t[N]++;
    h[o + N]++;
    if (result !== RESULT_SUCCESS) {
      t[K_S]++;
      h[o + K_S]++;
      if (result === RESULT_ERROR) {
        t[K_E]++;
        h[o + K_E]++;
      }
    }
    if (responseTimeMs === responseTimeMs) {
      t[N_L]++;
      h[o + N_L]++;
      if (responseTimeMs > this.up) {
        t[K_UP]++;
        h[o + K_UP]++;
      }
      if (responseTimeMs > this.down) {
        t[K_DOWN]++;
        h[o + K_DOWN]++;
      }
      let hist = acc.hist[s];
      if (!hist) hist = acc.hist[s] = new Uint32Array(LAT_BINS);
      hist[latencyBin(responseTimeMs)]!++;
    }
  }

  /** Records a reader recognised as belonging to neither series without handing them over. */
  countOther(n = 1): void {
    this.otherCount += n;
  }

  countInvalid(n = 1): void {
    this.invalid += n;
  }

  countTorn(n = 1): void {
    this.torn += n;
  }

  result(): OutcomeAggregate {
    const windowHours = Math.max(1, Math.ceil((this.atMs - this.startMs) / HOUR_MS));
    const hourly: HourlyBucket[] = [];
    const withProduction = this.production !== null;
    for (let hour = 0; hour < windowHours; hour++) {
      const acc = this.hours[hour];
      const start = this.startMs + hour * HOUR_MS;
      hourly.push({
        hour,
        start: new Date(start).toISOString(),
        end: new Date(Math.min(start + HOUR_MS, Math.max(this.atMs, start))).toISOString(),
        canary: seriesHour(acc?.counts, 0, acc?.hist[0] ?? null, this.quantile),
        production: withProduction ? seriesHour(acc?.counts, SLOTS, acc?.hist[1] ?? null, this.quantile) : null,
      });
    }
    return {
      model: this.model,
      version: this.version,
      production: this.production ?? null,
      started_at: new Date(this.startMs).toISOString(),
      at: new Date(this.atMs).toISOString(),
      quantile: this.quantile,
      bounds: { up: this.up, down: this.down },
      canary: streamsOf(this.totals[0]!, 0),
      production_streams: withProduction ? streamsOf(this.totals[1]!, 0) : null,
      skipped: { canary: { ...this.skips[0] }, production: { ...this.skips[1] }, invalid: this.invalid, torn: this.torn },
      other: this.otherCount,
      hourly,
    };
  }
}

/** Folds an iterable of records in one call. */
export function aggregateOutcomes(records: Iterable<unknown>, options: AggregateOptions): OutcomeAggregate {
  const agg = new OutcomeAggregator(options);
  for (const r of records) agg.add(r);
  return agg.result();
}

export interface TrajectoryPoint {
  /** End of the hour the point is taken at. */
  hour: number;
  at: string;
  /** Cumulative counts and Λ of each canary stream at that instant. */
  streams: Record<StreamName, Count & { llr: number }>;
}

/** Λ of each canary stream at the end of every hour of the window: the decision's trajectory chart. */
export function lambdaTrajectory(aggregate: Pick<OutcomeAggregate, 'hourly'>, config: CanaryRuleConfig): TrajectoryPoint[] {
  const hyp = streamHypotheses(config);
  const cum = Object.fromEntries(STREAM_NAMES.map((s) => [s, { n: 0, k: 0 }])) as Record<StreamName, Count>;
  return aggregate.hourly.map((b) => {
    const streams = {} as TrajectoryPoint['streams'];
    for (const s of STREAM_NAMES) {
      cum[s].n += b.canary.streams[s].n;
      cum[s].k += b.canary.streams[s].k;
      streams[s] = { n: cum[s].n, k: cum[s].k, llr: logLikelihoodRatio(cum[s], hyp[s]) };
    }
    return { hour: b.hour, at: b.end, streams };
  });
}

function streamsOf(c: Float64Array, o: number): StreamCounts {
  return {
    S: { n: c[o + N]!, k: c[o + K_S]! },
    E: { n: c[o + N]!, k: c[o + K_E]! },
    Lup: { n: c[o + N_L]!, k: c[o + K_UP]! },
    Ldown: { n: c[o + N_L]!, k: c[o + K_DOWN]! },
  };
}

function seriesHour(counts: Float64Array | undefined, o: number, hist: Uint32Array | null, q: number): SeriesHour {
  const c = counts ?? new Float64Array(2 * SLOTS);
  const n = c[o + N]!;
  return {
    n,
    success_rate: n > 0 ? (n - c[o + K_S]!) / n : null,
    error_rate: n > 0 ? c[o + K_E]! / n : null,
    latency_n: c[o + N_L]!,
    latency_quantile_ms: hist ? histogramQuantile(hist, c[o + N_L]!, q) : null,
    streams: streamsOf(c, o),
  };
}

export function latencyBin(ms: number): number {
  if (ms <= LAT_MIN) return 0;
  const b = Math.ceil(Math.log(ms / LAT_MIN) / LOG_RATIO);
  return b >= LAT_BINS ? LAT_BINS - 1 : b;
}

/** The q-quantile (the ceil(q·n)-th smallest value) located in its bin, as the bin's geometric midpoint. */
export function histogramQuantile(hist: Uint32Array, n: number, q: number): number | null {
  if (n <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let cum = 0;
  for (let b = 0; b < hist.length; b++) {
    cum += hist[b]!;
    if (cum >= rank) return b === 0 ? LAT_MIN : LAT_MIN * LAT_RATIO ** (b - 0.5);
  }
  return null;
}

/** success | failure | error, or a boolean (true is success, false failure); -1 otherwise. */
export function resultCode(v: unknown): ResultCode | -1 {
  switch (v) {
    case 'success':
    case true:
      return RESULT_SUCCESS;
    case 'failure':
    case false:
      return RESULT_FAILURE;
    case 'error':
      return RESULT_ERROR;
    default:
      return -1;
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Milliseconds since the epoch of an RFC 3339 date-time with a zone (the collector's rule), or NaN.
 * Computed by hand: Date.parse would accept local-time forms whose meaning depends on the machine.
 */
export function parseTimestamp(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) return Number.NaN;
  const y = +m[1]!;
  const mo = +m[2]!;
  const d = +m[3]!;
  const h = +m[4]!;
  const mi = +m[5]!;
  const s = +m[6]!;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return Number.NaN;
  // Sub-millisecond digits are truncated, as the collector does.
  const ms = m[7] ? +m[7].slice(1, 4).padEnd(3, '0') : 0;
  let offset = 0;
  if (m[9]) {
    const oh = +m[10]!;
    const om = +m[11]!;
    if (oh > 23 || om > 59) return Number.NaN;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return utcMs(y, mo, d, h, mi, s, ms) - offset;
}

/** Milliseconds of a UTC civil date-time (proleptic Gregorian, days-from-civil). */
export function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146097 + doe - 719468;
  return ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms;
}

export function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

function instant(v: Date | string | number, what: string): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : parseTimestamp(v);
  if (!Number.isFinite(ms)) {
    throw new MlopsError('INVALID_ARGUMENT', `${what} is not a valid RFC 3339 instant: ${String(v)}`, { hint: 'Use a time such as 2026-11-29T09:12:00Z.' });
  }
  return ms;
}
