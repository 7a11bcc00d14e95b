// The outcome mix of each locked shard, by week of the outcome timestamp: read with the same
// shard reader training uses (which checks the shard's hash on the way), then kept in
// .mlops/cache keyed by the file's stat and locked hash. Shards are immutable and named by their
// hash, so a cached entry stays right until the file changes; reads of uncached shards stop at
// a byte budget, and the page says which shards were not read.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTimestamp } from '../canary/aggregate.js';
import { isMlopsError } from '../errors.js';
import { splitRecord } from '../data/csv.js';
import type { LockShard } from '../data/lock.js';
import { ShardRowReader } from '../data/shard-reader.js';
import { SHARD_COLUMNS } from '../data/shard.js';
import { writeFileAtomic } from '../util/fs.js';
import { weekStart } from './format.js';
import type { OutcomeMix, ShardState, WeekRows } from './types.js';

const CACHE_FILE = '.mlops/cache/dashboard-shard-weeks.json';
const CACHE_VERSION = 1;
const TIMESTAMP = SHARD_COLUMNS.indexOf('timestamp');
const RESULT = SHARD_COLUMNS.indexOf('result');

/** Bytes of uncached shards one build reads for the outcome mix (default 256 MiB). */
export const DEFAULT_MIX_BUDGET = 256 * 1024 * 1024;

interface CacheEntry {
  sha256: string;
  size: number;
  mtimeMs: number;
  ino: number;
  weeks: WeekRows[];
}

interface CacheFile {
  version: number;
  shards: Record<string, CacheEntry>;
}

export interface ShardWeeks {
  state: ShardState;
  weeks: WeekRows[] | null;
}

/**
 * The timestamp and result fields of a canonical shard row. A row without a quote has no quoted
 * field, so its commas are exactly its field separators (the common case, and five indexOf
 * calls); other rows go through the full RFC 4180 splitter.
 */
export function timestampAndResult(row: string): [string, string] | null {
  const line = row.endsWith('\n') ? row.slice(0, -1) : row;
  if (line.indexOf('"') < 0) {
    const cuts: number[] = [];
    const last = Math.max(TIMESTAMP, RESULT);
    for (let p = line.indexOf(','); p >= 0 && cuts.length <= last; p = line.indexOf(',', p + 1)) cuts.push(p);
    if (cuts.length <= last) return null;
    const field = (i: number) => line.slice(i === 0 ? 0 : cuts[i - 1]! + 1, cuts[i]);
    return [field(TIMESTAMP), field(RESULT)];
  }
  const fields = splitRecord(line);
  if (!fields || fields.length <= RESULT) return null;
  return [fields[TIMESTAMP]!.text, fields[RESULT]!.text];
}

/** The week of a timestamp, memoised by its UTC date (rows of a shard share a few dozen dates). */
function weekOf(ts: string, memo: Map<string, string | null>): string | null {
  const utc = ts.length > 10 && (ts.endsWith('Z') || ts.endsWith('z'));
  const key = utc ? ts.slice(0, 10) : ts;
  let week = memo.get(key);
  if (week === undefined) {
    const ms = parseTimestamp(ts);
    week = Number.isFinite(ms) ? weekStart(ms) : null;
    memo.set(key, week);
  }
  return week;
}

export class ShardWeeksReader {
  private cache: CacheFile = { version: CACHE_VERSION, shards: {} };
  private dirty = false;
  private spent = 0;

  private constructor(
    private readonly dir: string,
    private readonly budget: number,
  ) {}

  static async open(dir: string, budget = DEFAULT_MIX_BUDGET): Promise<ShardWeeksReader> {
    const r = new ShardWeeksReader(dir, budget);
    try {
      const v = JSON.parse(await readFile(join(dir, CACHE_FILE), 'utf8')) as CacheFile;
      if (v && v.version === CACHE_VERSION && v.shards && typeof v.shards === 'object') r.cache = v;
    } catch {
      // no cache yet, or an unreadable one: start empty
    }
    return r;
  }

  async read(entry: LockShard): Promise<ShardWeeks> {
    let st;
    try {
      st = await stat(join(this.dir, entry.path));
    } catch {
      return { state: 'missing', weeks: null };
    }
    const c = this.cache.shards[entry.path];
    if (c && c.sha256 === entry.sha256 && c.size === st.size && c.mtimeMs === st.mtimeMs && c.ino === st.ino) return { state: 'locked', weeks: c.weeks };
    if (st.size !== entry.bytes) return { state: 'modified', weeks: null };
    if (this.spent + st.size > this.budget) return { state: 'unchecked', weeks: null };
    this.spent += st.size;
    const by = new Map<string, OutcomeMix>();
    const weeks = new Map<string, string | null>();
    const reader = ShardRowReader.forEntry(this.dir, entry);
    try {
      for (let rows = await reader.next(); rows; rows = await reader.next()) {
        for (const row of rows) {
          const f = timestampAndResult(row);
          if (!f) continue; // the hash check at the end reports a damaged shard
          const week = weekOf(f[0], weeks);
          if (week === null) continue;
          let mix = by.get(week);
          if (!mix) by.set(week, (mix = { success: 0, failure: 0, error: 0 }));
          const result = f[1];
          if (result === 'success' || result === 'failure' || result === 'error') mix[result]++;
        }
      }
    } catch (e) {
      await reader.close();
      if (isMlopsError(e) && e.code === 'SHARD_MISSING') return { state: 'missing', weeks: null };
      if (isMlopsError(e) && e.code === 'SHARD_MODIFIED') return { state: 'modified', weeks: null };
      throw e;
    }
    const result = [...by].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([week, mix]) => ({ week, mix }));
    this.cache.shards[entry.path] = { sha256: entry.sha256, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, weeks: result };
    this.dirty = true;
    return { state: 'locked', weeks: result };
  }

  /** Saves the cache when something was added (best effort: a read-only checkout still builds). */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(join(this.dir, CACHE_FILE), JSON.stringify(this.cache) + '\n').catch(() => undefined);
    this.dirty = false;
  }
}
