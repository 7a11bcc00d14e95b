// Reading the embedded outcome store: every `*.jsonl` file directly under `.mlops/outcomes/`,
// in file-name order, complete lines only. A bad line (torn by a crash, invalid, not UTF-8, too
// long) is skipped and counted, never fatal: one broken writer must not hide everyone's records.
//
// Cursor (GET /v1/outcomes?after=<cursor>): the files are append-only, so a position in the
// store is one byte offset per file. The cursor is that vector, encoded as an opaque string
// (`o1.` + base64url JSON). It stays valid however much is appended later, to any file, and a
// new file simply starts at 0. Its size grows by about 25 bytes per store file (one per UTC day
// with the built-in collector).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MlopsError, type ErrorCode, type Problem } from '../errors.js';
import { readLines, type FileLine } from './line-reader.js';
import { checkOutcome, MAX_OUTCOME_LINE_BYTES, type OutcomeRecord } from './outcome.js';
import { DigestTable } from './digest-table.js';

/** Where the store lives inside a registry directory. */
export const OUTCOMES_DIR = '.mlops/outcomes';

export function outcomesDir(dir: string): string {
  return join(dir, OUTCOMES_DIR);
}

/** One skipped line of the store. */
export interface StoreWarning extends Problem {
  code: ErrorCode;
  /** Store file name (relative to .mlops/outcomes). */
  file: string;
  /** Byte offset of the line. */
  offset: number;
}

export interface StoreStats {
  files: number;
  /** Records handed out. */
  records: number;
  /** Lines skipped, by reason. */
  skipped: { invalid: number; too_long: number; not_utf8: number; truncated: number; duplicate: number };
  bytes: number;
}

export interface ReadStoreOptions {
  dir: string;
  /** Called for every skipped line (invalid, too long, not UTF-8, torn tail). */
  onWarning?: (w: StoreWarning) => void;
  /**
   * Hand out each task_id once (the first record read wins, later ones count as `duplicate`).
   * Uses a digest table: memory stays near 24 bytes per distinct task_id.
   */
  unique?: boolean;
}

const FILE_NAME = /^[^/\\\0]+\.jsonl$/;

/** Store file names in read order (code point order of names). */
export async function listStoreFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outcomesDir(dir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => FILE_NAME.test(n) && !n.startsWith('.')).sort();
}

/** Total bytes of the store files (to size tables before a scan). */
export async function storeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await listStoreFiles(dir)) total += (await stat(join(outcomesDir(dir), f))).size;
  return total;
}

export function emptyStats(): StoreStats {
  return { files: 0, records: 0, skipped: { invalid: 0, too_long: 0, not_utf8: 0, truncated: 0, duplicate: 0 }, bytes: 0 };
}

/** Turns a line into a record or a warning. */
export function parseStoreLine(file: string, line: FileLine): { record: OutcomeRecord } | { warning: StoreWarning; kind: keyof StoreStats['skipped'] } | null {
  if (line.problem === 'too_long') {
    const path = `${OUTCOMES_DIR}/${file}`;
    return {
      kind: 'too_long',
      warning: { code: 'OUTCOME_LINE_TOO_LONG', file, path, offset: line.start, message: `line at byte ${line.start} is longer than ${MAX_OUTCOME_LINE_BYTES} bytes; skipped` },
    };
  }
  if (line.problem === 'not_utf8') {
    const path = `${OUTCOMES_DIR}/${file}`;
    return {
      kind: 'not_utf8',
      warning: { code: 'ENCODING_INVALID', file, path, offset: line.start, message: `line at byte ${line.start} is not valid UTF-8; skipped` },
    };
  }
  const text = line.text!;
  // Writers separate batches with a newline: blank lines are not records and not errors.
  if (text.length === 0 || (text.charCodeAt(0) !== 123 /* { */ && /^\s*$/.test(text))) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    const path = `${OUTCOMES_DIR}/${file}`;
    return {
      kind: 'invalid',
      warning: { code: 'OUTCOME_INVALID', file, path, offset: line.start, message: `line at byte ${line.start} is not JSON (torn or corrupt); skipped` },
    };
  }
  const c = checkOutcome(raw);
  if (!c.ok) {
    const path = `${OUTCOMES_DIR}/${file}`;
    return {
      kind: 'invalid',
      warning: { code: 'OUTCOME_INVALID', file, path, offset: line.start, message: `line at byte ${line.start}: ${c.reasons.join('; ')}; skipped` },
    };
  }
  return { record: c.record };
}

/**
 * Reads the whole store in batches of records (no per-record promise: collect calls this for
 * millions of lines). Bad lines go to onWarning and the stats.
 */
export async function scanOutcomeStore(opts: ReadStoreOptions & { onBatch: (records: OutcomeRecord[]) => void | Promise<void>; stats?: StoreStats }): Promise<StoreStats> {
  const stats = opts.stats ?? emptyStats();
  const seen = opts.unique ? new DigestTable(1 << 16) : null;
  const files = await listStoreFiles(opts.dir);
  stats.files = files.length;
  for (const file of files) {
    const state = { tailBytes: 0, size: 0 };
    for await (const batch of readLines(join(outcomesDir(opts.dir), file), { maxLineBytes: MAX_OUTCOME_LINE_BYTES, state })) {
      const records: OutcomeRecord[] = [];
      for (const line of batch) {
        const record = acceptLine(file, line, stats, seen, opts.onWarning);
        if (record) records.push(record);
      }
      if (records.length) await opts.onBatch(records);
    }
    endOfFile(file, state, stats, opts.onWarning);
  }
  return stats;
}

/**
 * The records of the store as an async iterable, in file-name then line order. `stats` fills in
 * as it is read. Never throws on a bad line; throws only when the store cannot be read at all.
 */
export function readOutcomeStore(opts: ReadStoreOptions): AsyncIterable<OutcomeRecord> & { stats: StoreStats } {
  const stats = emptyStats();
  return {
    stats,
    async *[Symbol.asyncIterator]() {
      const seen = opts.unique ? new DigestTable(1 << 16) : null;
      const files = await listStoreFiles(opts.dir);
      stats.files = files.length;
      for (const file of files) {
        const state = { tailBytes: 0, size: 0 };
        for await (const batch of readLines(join(outcomesDir(opts.dir), file), { maxLineBytes: MAX_OUTCOME_LINE_BYTES, state })) {
          for (const line of batch) {
            const record = acceptLine(file, line, stats, seen, opts.onWarning);
            if (record) yield record;
          }
        }
        endOfFile(file, state, stats, opts.onWarning);
      }
    },
  };
}

function acceptLine(
  file: string,
  line: FileLine,
  stats: StoreStats,
  seen: DigestTable | null,
  onWarning: ((w: StoreWarning) => void) | undefined,
): OutcomeRecord | null {
  const p = parseStoreLine(file, line);
  if (p === null) return null;
  if ('warning' in p) {
    stats.skipped[p.kind]++;
    onWarning?.(p.warning);
    return null;
  }
  if (seen) {
    seen.insert(p.record.task_id);
    if (!seen.inserted) {
      stats.skipped.duplicate++;
      return null;
    }
  }
  stats.records++;
  return p.record;
}

function endOfFile(file: string, state: { tailBytes: number; size: number }, stats: StoreStats, onWarning: ((w: StoreWarning) => void) | undefined): void {
  stats.bytes += state.size;
  if (state.tailBytes > 0) {
    // Bytes after the last LF: a crashed writer's torn line, or a write still in flight.
    // Either way not a record yet; the next writer's leading newline terminates it.
    stats.skipped.truncated++;
    onWarning?.({
      code: 'OUTCOME_LINE_TRUNCATED',
      file,
      path: `${OUTCOMES_DIR}/${file}`,
      offset: state.size - state.tailBytes,
      message: `last ${state.tailBytes} bytes have no line ending (torn or still being written); not read`,
    });
  }
}

// ---- cursor pages ----

export interface OutcomesPage {
  records: OutcomeRecord[];
  /** Cursor to pass as `after` for the next page. */
  next: string;
  /** True when the page reached the end of every file (poll again later for more). */
  done: boolean;
  /** Lines skipped in this page (bad lines advance the cursor so they are never re-read). */
  skipped: number;
}

const CURSOR_PREFIX = 'o1.';

/** Decodes a cursor into per-file offsets; throws INVALID_ARGUMENT naming the problem. */
export function decodeCursor(cursor: string | null | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (cursor === undefined || cursor === null || cursor === '') return out;
  const bad = (why: string) =>
    new MlopsError('INVALID_ARGUMENT', `invalid outcomes cursor: ${why}`, {
      hint: 'Pass back the `next` cursor of a previous page unchanged, or omit it to start from the beginning.',
    });
  if (!cursor.startsWith(CURSOR_PREFIX) || cursor.length > 1 << 20) throw bad('unknown format');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw bad('not decodable');
  }
  if (!Array.isArray(parsed)) throw bad('not a list of positions');
  for (const e of parsed) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !FILE_NAME.test(e[0]) || !Number.isSafeInteger(e[1]) || e[1] < 0) {
      throw bad('malformed position');
    }
    out.set(e[0], e[1]);
  }
  return out;
}

export function encodeCursor(positions: Map<string, number>): string {
  const entries = [...positions.entries()].filter(([, o]) => o > 0).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return CURSOR_PREFIX + Buffer.from(JSON.stringify(entries), 'utf8').toString('base64url');
}

/**
 * One page of records after `after` (at most `limit`), for `GET /v1/outcomes`. Records come in
 * store order; the page is not de-duplicated (the consumer dedupes by task_id, as collect does).
 */
export async function readOutcomesPage(opts: {
  dir: string;
  after?: string | null;
  limit?: number;
  onWarning?: (w: StoreWarning) => void;
}): Promise<OutcomesPage> {
  const limit = opts.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) {
    throw new MlopsError('INVALID_ARGUMENT', `limit must be an integer from 1 to 100000, got ${String(opts.limit)}`);
  }
  const positions = decodeCursor(opts.after);
  const files = await listStoreFiles(opts.dir);
  const present = new Set(files);
  for (const name of [...positions.keys()]) if (!present.has(name)) positions.delete(name); // pruned file
  const records: OutcomeRecord[] = [];
  let skipped = 0;
  let done = true;
  for (const file of files) {
    const path = join(outcomesDir(opts.dir), file);
    const start = positions.get(file) ?? 0;
    if (start > 0) await assertLineBoundary(path, start);
    let offset = start;
    outer: for await (const batch of readLines(path, { start, maxLineBytes: MAX_OUTCOME_LINE_BYTES })) {
      for (const line of batch) {
        if (records.length >= limit) {
          done = false;
          break outer;
        }
        const p = parseStoreLine(file, line);
        offset = line.next;
        if (p === null) continue;
        if ('warning' in p) {
          skipped++;
          opts.onWarning?.(p.warning);
          continue;
        }
        records.push(p.record);
      }
    }
    positions.set(file, offset);
    if (!done) break;
  }
  return { records, next: encodeCursor(positions), done, skipped };
}

async function assertLineBoundary(path: string, offset: number): Promise<void> {
  const { open } = await import('node:fs/promises');
  const size = (await stat(path)).size;
  const bad = () =>
    new MlopsError('INVALID_ARGUMENT', 'invalid outcomes cursor: it does not point at a line start of the store', {
      hint: 'The store was rewritten since this cursor was issued; start again without a cursor (collect dedupes by task_id).',
    });
  if (offset > size) throw bad();
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset - 1);
    if (b[0] !== 10) throw bad();
  } finally {
    await fh.close();
  }
}
