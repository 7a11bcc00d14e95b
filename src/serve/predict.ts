// Predictions: check the raw records of a request, route each to its version (SPEC 6.4),
// featurize it with that version's own schema and fitted state, and score each version's group
// in one onnxruntime run. `response_time_ms` is routing plus featurization plus inference, the
// model latency a worker reports back with its outcome.
import { isMlopsError, MlopsError } from '../errors.js';
import { route, routingKeyOf, type Route } from '../canary/route.js';
import { featurize, type FeatureInput } from '../data/features.js';
import { normalizeTimestamp } from '../data/outcome.js';
import { requestError } from './http.js';
import type { ServingModel, VersionHandle } from './model-pool.js';
import type { LoadedVersion } from './load-version.js';

/** A checked prediction request record: SPEC 4 input fields, `key` optional. */
export interface PredictRecord extends FeatureInput {
  key?: string | null;
  /** The key, domain or task_id exactly as sent (every client routes on the raw value). */
  routingKey: string;
}

export interface Prediction {
  probability: number;
  version: string;
  route: Route;
  /** The key's canary bucket (0-9999), null when no canary runs. */
  bucket: number | null;
  response_time_ms: number;
}

const STRING_FIELDS = ['key', 'task_id', 'domain', 'url', 'action_attempted'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks one record of a request, in place: the parsed body belongs to the request, and copying
 * it costs a request-rate server more than the checks. Unknown fields are ignored (a worker may
 * send outcome fields along). A missing timestamp is the time of the request: the worker asks
 * about now.
 */
export function checkPredictRecord(raw: unknown, index: number, now: () => string): PredictRecord {
  if (!isPlainObject(raw)) {
    throw requestError('REQUEST_INVALID', `record ${index} must be a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`, {
      position: { index },
    });
  }
  for (const f of STRING_FIELDS) {
    const v = raw[f];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw requestError('REQUEST_INVALID', `record ${index}: ${f} must be a string, got ${typeof v}`, { position: { index, field: `/${f}` } });
    }
  }
  const rec = raw as PredictRecord & Record<string, unknown>;
  try {
    rec.routingKey = routingKeyOf(rec);
  } catch (e) {
    throw withIndex(e, index);
  }
  // Domains are stored lower-case (normalizeOutcome), so features were fitted on lower case;
  // routing keeps the key as sent.
  if (typeof rec.domain === 'string') rec.domain = rec.domain.toLowerCase();
  const ts = rec.timestamp;
  if (ts === undefined || ts === null) rec.timestamp = now();
  else {
    const norm = typeof ts === 'string' ? normalizeTimestamp(ts) : null;
    if (norm === null) {
      throw requestError('REQUEST_INVALID', `record ${index}: timestamp must be an RFC 3339 date-time with a zone`, { position: { index, field: '/timestamp' } });
    }
    rec.timestamp = norm;
  }
  const features = rec.features;
  if (features !== undefined && features !== null) {
    if (!isPlainObject(features)) {
      throw requestError('REQUEST_INVALID', `record ${index}: features must be an object`, { position: { index, field: '/features' } });
    }
    for (const k in features) {
      const v = features[k];
      const ok = v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      if (!ok) {
        throw requestError('REQUEST_INVALID', `record ${index}: features.${k} must be a number, string, boolean or null`, {
          position: { index, field: `/features/${k.replace(/~/g, '~0').replace(/\//g, '~1')}` },
        });
      }
    }
  }
  return rec;
}

/** The records of a predict body: one record, a JSON array, or `{ "records" | "instances": [...] }`. */
export function recordsOfBody(body: unknown): { records: unknown[]; batch: boolean } {
  if (Array.isArray(body)) return { records: body, batch: true };
  if (isPlainObject(body)) {
    for (const k of ['records', 'instances'] as const) {
      if (k in body) {
        const v = body[k];
        if (!Array.isArray(v)) throw requestError('REQUEST_INVALID', `${k} must be an array of records`, { position: { field: `/${k}` } });
        return { records: v, batch: true };
      }
    }
    return { records: [body], batch: false };
  }
  throw requestError('REQUEST_INVALID', 'the body must be a record (JSON object), an array of records, or { "records": [...] }');
}

function withIndex(e: unknown, index: number): unknown {
  if (isMlopsError(e) && (e.code === 'FEATURE_MISSING' || e.code === 'ROUTING_KEY_MISSING' || e.code === 'FEATURE_SCHEMA_INVALID')) {
    // "feature X needs features.domain_authority, ..." names the source: point at it.
    const source = /needs (\S+?),/.exec(e.message)?.[1];
    const field = source ? `/${source.replace(/^features\./, 'features/')}` : undefined;
    return new MlopsError(e.code, `record ${index}: ${e.message}`, {
      hint: e.hint,
      data: { ...(e.data ?? {}), status: 400, position: { index, ...(field ? { field } : {}) } },
    });
  }
  return e;
}

export interface PredictHooks {
  onPrediction(model: string, version: string, route: Route, seconds: number): void;
  onError(model: string, version: string, route: Route, n: number): void;
  /**
   * Most one-record requests of a version scored together in one onnxruntime run (default 64;
   * 1 = every request runs alone). See RowBatcher.
   */
  maxBatchRows?: number;
}

/**
 * Dynamic batching, as Triton and KServe do it: one-record requests for the same version that
 * arrive in the same turn of the event loop (the poll phase hands the server every request
 * that is ready) are scored in one run, flushed in the check phase of that same turn
 * (setImmediate), so no request waits for a later one. One run costs about as much as a row
 * here; under concurrent load this is most of a prediction's CPU time.
 */
class RowBatcher {
  private rows: Float32Array[] = [];
  private waiters: Array<{ resolve: (p: number) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;

  constructor(
    private readonly loaded: LoadedVersion,
    private readonly maxRows: number,
  ) {}

  score(x: Float32Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.rows.push(x);
      this.waiters.push({ resolve, reject });
      if (this.rows.length >= this.maxRows) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    });
  }

  private readonly flushNow = () => {
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    const rows = this.rows;
    const waiters = this.waiters;
    if (rows.length === 0) return;
    this.rows = [];
    this.waiters = [];
    const f = this.loaded.nFeatures;
    let X = rows[0]!;
    if (rows.length > 1) {
      X = new Float32Array(rows.length * f);
      for (let i = 0; i < rows.length; i++) X.set(rows[i]!, i * f);
    }
    this.loaded.scorer.predict({ X, n: rows.length, f }).then(
      (p) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(p[i]!);
      },
      (e) => {
        for (const w of waiters) w.reject(e);
      },
    );
  }
}

const batchers = new WeakMap<LoadedVersion, RowBatcher>();

function scoreRow(loaded: LoadedVersion, x: Float32Array, maxRows: number): Promise<number> {
  if (maxRows <= 1) return loaded.scorer.predict({ X: x, n: 1, f: loaded.nFeatures }).then((p) => p[0]!);
  let b = batchers.get(loaded);
  if (!b) batchers.set(loaded, (b = new RowBatcher(loaded, maxRows)));
  return b.score(x);
}

/** Predictions for checked records, in order. Holds each used version until its run is done. */
export async function predictRecords(serving: ServingModel, records: PredictRecord[], hooks: PredictHooks): Promise<Prediction[]> {
  if (records.length === 1) return [await predictOne(serving, records[0]!, hooks)];
  const t0 = performance.now();
  const n = records.length;
  const decisions = new Array<ReturnType<typeof route>>(n);
  for (let i = 0; i < n; i++) decisions[i] = route(serving.routing, records[i]!.routingKey);
  const routeMs = performance.now() - t0;

  // Group by version; a request rarely has more than two groups.
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const v = decisions[i]!.version;
    let g = groups.get(v);
    if (!g) groups.set(v, (g = []));
    g.push(i);
  }
  const held: VersionHandle[] = [];
  for (const v of groups.keys()) {
    const h = serving.versions.get(v);
    if (!h) {
      // A serving set always holds its pointed versions; reaching this is a bug.
      throw new MlopsError('MODEL_NOT_READY', `${serving.model}@${v} is routed to but not loaded`);
    }
    h.acquire();
    held.push(h);
  }
  try {
    // Featurize every group first: a bad record fails the request before any inference runs.
    const jobs = held.map((h) => {
      const idx = groups.get(h.loaded.version)!;
      const tf = performance.now();
      const { schema, state, nFeatures } = h.loaded;
      const X = new Float32Array(idx.length * nFeatures);
      for (let k = 0; k < idx.length; k++) {
        try {
          X.set(featurize(schema, state, records[idx[k]!]!), k * nFeatures);
        } catch (e) {
          throw withIndex(e, idx[k]!);
        }
      }
      return { h, idx, X, featMs: performance.now() - tf };
    });
    const out = new Array<Prediction>(n);
    await Promise.all(
      jobs.map(async ({ h, idx, X, featMs }) => {
        const { model, version } = h.loaded;
        const r = decisions[idx[0]!]!.route;
        const ti = performance.now();
        let probs: Float32Array;
        try {
          probs = await h.loaded.scorer.predict({ X, n: idx.length, f: h.loaded.nFeatures });
        } catch (e) {
          hooks.onError(model, version, r, idx.length);
          throw e;
        }
        const ms = routeMs + featMs + (performance.now() - ti);
        const rounded = Math.round(ms * 1000) / 1000;
        for (let k = 0; k < idx.length; k++) {
          const i = idx[k]!;
          const d = decisions[i]!;
          out[i] = { probability: probs[k]!, version, route: d.route, bucket: d.bucket, response_time_ms: rounded };
          hooks.onPrediction(model, version, d.route, ms / 1000);
        }
      }),
    );
    return out;
  } finally {
    for (const h of held) h.release();
  }
}

/** The one-record request, the common case, without the grouping a batch needs. */
export async function predictOne(serving: ServingModel, record: PredictRecord, hooks: PredictHooks): Promise<Prediction> {
  const t0 = performance.now();
  const d = route(serving.routing, record.routingKey);
  const h = serving.versions.get(d.version);
  if (!h) throw new MlopsError('MODEL_NOT_READY', `${serving.model}@${d.version} is routed to but not loaded`);
  h.acquire();
  try {
    const { model, version, schema, state } = h.loaded;
    let x: Float32Array;
    try {
      x = featurize(schema, state, record);
    } catch (e) {
      throw withIndex(e, 0);
    }
    let probability: number;
    try {
      probability = await scoreRow(h.loaded, x, hooks.maxBatchRows ?? 64);
    } catch (e) {
      hooks.onError(model, version, d.route, 1);
      throw e;
    }
    const ms = performance.now() - t0;
    hooks.onPrediction(model, version, d.route, ms / 1000);
    return { probability, version, route: d.route, bucket: d.bucket, response_time_ms: Math.round(ms * 1000) / 1000 };
  } finally {
    h.release();
  }
}
