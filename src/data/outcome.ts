// The outcome record (SPEC 4): one automation attempt and how it ended. Every way in (library,
// HTTP, JSONL store, CSV shard) goes through normalizeOutcome, so downstream code sees one shape.
import { MlopsError, type Problem } from '../errors.js';
import { describeAjvError, getValidator } from '../util/validate.js';

export type OutcomeResult = 'success' | 'failure' | 'error';

export type FeatureValue = number | string | boolean | null;

/** A normalized outcome: every field present (absent optional fields are null, features {}). */
export interface OutcomeRecord {
  task_id: string;
  domain: string;
  url: string | null;
  action_attempted: string;
  result: OutcomeResult;
  failure_reason: string | null;
  execution_time: number | null;
  model: string | null;
  model_version: string | null;
  response_time_ms: number | null;
  /** UTC, millisecond precision, fixed width: `2026-11-26T10:00:00.000Z` (sorts as text). */
  timestamp: string;
  features: Record<string, FeatureValue>;
}

/** What callers may pass: booleans for result, any RFC 3339 zone, optional fields left out. */
export interface OutcomeInput {
  task_id: string;
  domain: string;
  url?: string | null;
  action_attempted: string;
  result: OutcomeResult | boolean;
  failure_reason?: string | null;
  execution_time?: number | null;
  model?: string | null;
  model_version?: string | null;
  response_time_ms?: number | null;
  timestamp: string;
  features?: Record<string, FeatureValue>;
}

/**
 * Longest accepted JSONL line, in bytes, newline included. The schema's field limits keep a
 * real record far below it (typically 300-600 bytes); the bound exists so a reader never buffers
 * an unbounded line and one bad writer cannot make every reader allocate megabytes.
 */
export const MAX_OUTCOME_LINE_BYTES = 64 * 1024;

/** Field order of the normalized record, also the order of its JSON form. */
export const OUTCOME_FIELDS = [
  'task_id',
  'domain',
  'url',
  'action_attempted',
  'result',
  'failure_reason',
  'execution_time',
  'model',
  'model_version',
  'response_time_ms',
  'timestamp',
  'features',
] as const;

// Lone UTF-16 surrogates cannot be written as UTF-8: they would turn into U+FFFD on disk and
// the record would change between the append and the shard. With the u flag a paired surrogate
// is one code point, so this only matches lone halves.
const LONE_SURROGATE = /\p{Surrogate}/u;
// Any surrogate at all (paired or not): a cheap pre-test, since almost every field is ASCII.
const ANY_SURROGATE = /[\ud800-\udfff]/;

function hasLoneSurrogate(v: string): boolean {
  return ANY_SURROGATE.test(v) && LONE_SURROGATE.test(v);
}

/**
 * Checks a raw record and returns its normalized form, or the reasons it is invalid (each
 * naming the field). Never throws.
 */
export function checkOutcome(raw: unknown): { ok: true; record: OutcomeRecord } | { ok: false; reasons: string[] } {
  const validate = getValidator('outcome');
  if (!validate(raw)) {
    const seen = new Set<string>();
    const reasons: string[] = [];
    for (const e of validate.errors ?? []) {
      // Name the field itself for a missing key, as for every other reason.
      const m = e.keyword === 'required'
        ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}: is required`
        : describeAjvError(e);
      if (!seen.has(m)) {
        seen.add(m);
        reasons.push(m);
      }
    }
    return { ok: false, reasons };
  }
  const r = raw as OutcomeInput;
  const reasons: string[] = [];
  for (const f of ['task_id', 'domain', 'url', 'action_attempted', 'failure_reason', 'model', 'model_version'] as const) {
    const v = r[f];
    if (typeof v === 'string' && hasLoneSurrogate(v)) reasons.push(`/${f}: is not valid Unicode (lone surrogate)`);
  }
  const features: Record<string, FeatureValue> = {};
  if (r.features) {
    const keys = Object.keys(r.features);
    for (let i = 1; i < keys.length; i++) {
      if (keys[i - 1]! > keys[i]!) {
        keys.sort();
        break;
      }
    }
    for (const k of keys) {
      const v = r.features[k]!;
      if (typeof v === 'number' && !Number.isFinite(v)) reasons.push(`/features/${k}: must be a finite number`);
      if (typeof v === 'string' && hasLoneSurrogate(v)) reasons.push(`/features/${k}: is not valid Unicode (lone surrogate)`);
      features[k] = v;
    }
  }
  for (const f of ['execution_time', 'response_time_ms'] as const) {
    const v = r[f];
    if (typeof v === 'number' && !Number.isFinite(v)) reasons.push(`/${f}: must be a finite number`);
  }
  const timestamp = normalizeTimestamp(r.timestamp);
  if (timestamp === null) reasons.push('/timestamp: must be an RFC 3339 date-time with a zone, years 0001-9999');
  if (reasons.length) return { ok: false, reasons };
  return {
    ok: true,
    record: {
      task_id: r.task_id,
      domain: r.domain.toLowerCase(),
      url: r.url ?? null,
      action_attempted: r.action_attempted,
      result: r.result === true ? 'success' : r.result === false ? 'failure' : r.result,
      failure_reason: r.failure_reason ?? null,
      execution_time: normalizeNumber(r.execution_time),
      model: r.model ?? null,
      model_version: r.model_version ?? null,
      response_time_ms: normalizeNumber(r.response_time_ms),
      timestamp: timestamp!,
      features,
    },
  };
}

/** The normalized record; throws OUTCOME_INVALID listing every reason, each naming its field. */
export function normalizeOutcome(raw: unknown): OutcomeRecord {
  const c = checkOutcome(raw);
  if (c.ok) return c.record;
  const id = typeof raw === 'object' && raw !== null && typeof (raw as { task_id?: unknown }).task_id === 'string'
    ? ` (task_id ${JSON.stringify((raw as { task_id: string }).task_id).slice(0, 80)})`
    : '';
  throw new MlopsError('OUTCOME_INVALID', `invalid outcome record${id}: ${c.reasons.join('; ')}`, {
    hint: 'Send the fields of SPEC section 4: task_id, domain, action_attempted, result (success|failure|error), timestamp (RFC 3339 with zone).',
    data: { reasons: c.reasons },
  });
}

/** Reasons as Problems, for reports that list bad lines of a file. */
export function outcomeProblems(raw: unknown, path: string, line?: number): Problem[] {
  const c = checkOutcome(raw);
  return c.ok ? [] : c.reasons.map((message) => ({ code: 'OUTCOME_INVALID' as const, path, line, message }));
}

/** The JSON line of a normalized record (fields in OUTCOME_FIELDS order, features keys sorted). */
export function outcomeToJson(record: OutcomeRecord): string {
  // Built by hand so the key order is fixed whatever object the caller built.
  return JSON.stringify({
    task_id: record.task_id,
    domain: record.domain,
    url: record.url,
    action_attempted: record.action_attempted,
    result: record.result,
    failure_reason: record.failure_reason,
    execution_time: record.execution_time,
    model: record.model,
    model_version: record.model_version,
    response_time_ms: record.response_time_ms,
    timestamp: record.timestamp,
    features: sortedFeatures(record.features),
  });
}

export function sortedFeatures(features: Record<string, FeatureValue>): Record<string, FeatureValue> {
  const keys = Object.keys(features);
  let sorted = true;
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) sorted = false;
  if (sorted) return features;
  const out: Record<string, FeatureValue> = {};
  for (const k of keys.sort()) out[k] = features[k]!;
  return out;
}

// -0 and 0 are one value in every consumer; writing "-0" would make two canonical forms.
function normalizeNumber(v: number | null | undefined): number | null {
  if (v === undefined || v === null) return null;
  return v === 0 ? 0 : v;
}

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function num(s: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * RFC 3339 -> `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, milliseconds, fixed width so text order is time
 * order). Sub-millisecond digits are truncated. Returns null when invalid or out of range.
 */
export function normalizeTimestamp(text: string): string | null {
  // Fast path for what this tool and most clients send (`...:SSZ` or `...:SS.sssZ`): check the
  // calendar with arithmetic instead of regex + Date round trips (the collector's hottest line).
  if ((text.length === 24 || text.length === 20) && text.charCodeAt(text.length - 1) === 90 /* Z */ && CANONICAL.test(text)) {
    const year = num(text, 0, 4);
    const month = num(text, 5, 2);
    const day = num(text, 8, 2);
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = DAYS[month - 1];
    if (year === 0 || days === undefined || day < 1 || day > (month === 2 && leap ? 29 : days) || num(text, 11, 2) > 23 || num(text, 14, 2) > 59 || num(text, 17, 2) > 59) return null;
    return text.length === 24 ? text : `${text.slice(0, 19)}.000Z`;
  }
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || day < 1 || day > days || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  // Rebuilt with at most 3 fraction digits so parsing never depends on how many were sent.
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${(frac ?? '').slice(0, 4)}${zone!.toUpperCase()}`);
  if (!Number.isFinite(ms)) return null;
  const iso = new Date(ms).toISOString();
  if (iso.length !== 24 || iso.startsWith('0000')) return null; // outside years 0001-9999
  return iso;
}
