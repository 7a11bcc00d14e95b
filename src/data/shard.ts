// Canonical CSV shards (SPEC 5): fixed header, RFC 4180 quoting by the rule of csv.ts, LF line
// endings, UTF-8, rows sorted by timestamp, then task_id, then the row text. The same records in
// any order give the same bytes, so a shard's SHA-256 names its content. Pure.
import { MlopsError } from '../errors.js';
import type { FeatureValue, OutcomeRecord, OutcomeResult } from './outcome.js';
import { checkOutcome, sortedFeatures } from './outcome.js';
import {
  decodeNumberField,
  decodeTextField,
  encodeNumberField,
  encodeTextField,
  splitRecord,
  type RawField,
} from './csv.js';

/**
 * Column order of every shard. The timestamp comes first so a shard reads in its sort order and
 * the sort key of a row is found without parsing the whole row.
 */
export const SHARD_COLUMNS = [
  'timestamp',
  'task_id',
  'domain',
  'url',
  'action_attempted',
  'result',
  'failure_reason',
  'execution_time',
  'response_time_ms',
  'model',
  'model_version',
  'features',
] as const;

export const SHARD_HEADER = SHARD_COLUMNS.join(',') + '\n';

/** Name of the schema of shard rows, recorded in datasets.lock (`schema: outcome_v1`). */
export const SHARD_SCHEMA = 'outcome_v1';

/** The canonical CSV row of a normalized record, with its trailing LF. */
export function outcomeToRow(r: OutcomeRecord): string {
  const features = Object.keys(r.features).length ? JSON.stringify(sortedFeatures(r.features)) : '{}';
  // join() yields one flat string; `a + ',' + b + ...` would build a rope of ~25 nodes that keeps
  // every field string alive, tripling the memory of a sort chunk.
  return [
    r.timestamp,
    encodeTextField(r.task_id),
    encodeTextField(r.domain),
    encodeTextField(r.url),
    encodeTextField(r.action_attempted),
    r.result,
    encodeTextField(r.failure_reason),
    encodeNumberField(r.execution_time),
    encodeNumberField(r.response_time_ms),
    encodeTextField(r.model),
    encodeTextField(r.model_version),
    encodeTextField(features) + '\n',
  ].join(',');
}

/**
 * Parses one shard row (with or without its LF) back into a record. Throws SHARD_MODIFIED naming the
 * field when the row is not a valid record; `where` says which file and row.
 */
export function rowToOutcome(line: string, where = 'shard row'): OutcomeRecord {
  const fields = splitRecord(line.endsWith('\n') ? line.slice(0, -1) : line);
  if (!fields) throw badRow(where, 'malformed CSV quoting');
  if (fields.length !== SHARD_COLUMNS.length) throw badRow(where, `${fields.length} fields, expected ${SHARD_COLUMNS.length}`);
  const f = (i: number): RawField => fields[i]!;
  let features: Record<string, FeatureValue> = {};
  const ftext = decodeTextField(f(11));
  if (ftext !== null && ftext !== '{}') {
    try {
      features = JSON.parse(ftext) as Record<string, FeatureValue>;
    } catch {
      throw badRow(where, 'features is not JSON');
    }
  }
  const raw = {
    timestamp: decodeTextField(f(0)),
    task_id: decodeTextField(f(1)),
    domain: decodeTextField(f(2)),
    url: decodeTextField(f(3)),
    action_attempted: decodeTextField(f(4)),
    result: decodeTextField(f(5)) as OutcomeResult,
    failure_reason: decodeTextField(f(6)),
    execution_time: decodeNumberField(f(7)),
    response_time_ms: decodeNumberField(f(8)),
    model: decodeTextField(f(9)),
    model_version: decodeTextField(f(10)),
    features,
  };
  const c = checkOutcome(raw);
  if (!c.ok) throw badRow(where, c.reasons.join('; '));
  return c.record;
}

function badRow(where: string, why: string): MlopsError {
  return new MlopsError('SHARD_MODIFIED', `${where}: not a canonical outcome row (${why})`, {
    hint: 'Shards are written by `mlops data collect` and never edited; restore the file from git.',
  });
}

/** The sort key of a row as text: timestamp (fixed width) followed by the task_id. */
export function rowKey(line: string): string {
  return line.slice(0, 24) + rowTaskId(line);
}

/** The task_id of a row (its second field), read without parsing the rest of the row. */
export function rowTaskId(line: string): string {
  if (line.charCodeAt(25) !== 34 /* " */) {
    let end = line.indexOf(',', 25);
    if (end < 0) end = line.endsWith('\n') ? line.length - 1 : line.length;
    const t = line.slice(25, end);
    return t.charCodeAt(0) === 39 ? decodeTextField({ text: t, quoted: false })! : t;
  }
  // Quoted task_id: read up to its closing quote (doubled quotes are one quote).
  let text = '';
  let j = 26;
  for (;;) {
    const q = line.indexOf('"', j);
    if (q < 0) return text + line.slice(j);
    text += line.slice(j, q);
    if (line.charCodeAt(q + 1) === 34) {
      text += '"';
      j = q + 2;
      continue;
    }
    break;
  }
  return decodeTextField({ text, quoted: true })!;
}

function digits(s: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

/**
 * Milliseconds of a canonical timestamp (`YYYY-MM-DDTHH:MM:SS.sssZ`, also the first 24 characters
 * of a row), by arithmetic: this runs for every row of every sort and merge.
 */
export function timestampMs(s: string): number {
  const year = digits(s, 0, 4);
  if (year < 100) return Date.parse(s.slice(0, 24)); // Date.UTC would read 0..99 as 1900..1999
  return Date.UTC(year, digits(s, 5, 2) - 1, digits(s, 8, 2), digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2), digits(s, 20, 3));
}

/**
 * Code point order (what byte-wise comparison of UTF-8 gives in any language). JavaScript's `<`
 * compares UTF-16 units, which differs only when both strings hold a unit >= U+D800 at the first
 * difference; that case is remapped so surrogate pairs sort above U+E000..U+FFFF.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return remap(x) - remap(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

function remap(u: number): number {
  return u >= 0xe000 ? u - 0x800 : u + 0x2000;
}

/** Orders rows by (timestamp, task_id, row text): the canonical order of a shard. */
export function compareRows(a: string, b: string): number {
  const c = compareText(rowKey(a), rowKey(b));
  return c !== 0 ? c : compareText(a, b);
}

/** The canonical shard text of a set of records (header included). Order of the input is irrelevant. */
export function canonicalCsv(records: Iterable<OutcomeRecord>): string {
  const rows: string[] = [];
  for (const r of records) rows.push(outcomeToRow(r));
  rows.sort(compareRows);
  return SHARD_HEADER + rows.join('');
}

/** `datasets/<dataset>/<yyyy-mm-dd>-<first 8 hex of sha256>.csv` (SPEC 5); the date is UTC. */
export function shardPath(dataset: string, createdAt: string, sha256: string): string {
  return `datasets/${dataset}/${createdAt.slice(0, 10)}-${sha256.slice(0, 8)}.csv`;
}
