// Sealing the not-yet-locked outcomes of the store into a new shard (SPEC 5), in bounded memory.
//
// Rules (task_id is the idempotency key):
// - a record whose exact row is already in a locked shard is skipped (`sealed`): re-reading the
//   store, or a client retry after the collect, changes nothing.
// - a different record for a sealed task_id: under `append` dropped (`conflict`); under `dedupe`
//   sealed as an update when its timestamp is later than the sealed one, else dropped (`stale`).
//   The "later" rule is what keeps a second run from flipping between two versions.
// - among unsealed records of one task_id, the latest timestamp wins (ties: the greater row
//   text); older versions are `superseded`, exact copies `duplicate`. The choice depends only on
//   the records, never on the order they were appended, so the shard bytes do too.
// - nothing new -> no shard and no change to datasets.lock.
//
// Memory: no step holds all records. The sealed task_ids (with their latest timestamp and a
// 32-bit hash of their row) and the new task_ids are 64-bit digests in typed-array hash tables
// (digest-table.ts: 21 bytes a slot, at most half full). New rows are encoded once into a Buffer
// arena and sorted by index (row-sorter.ts); past 250,000 rows or 128 MiB a sorted run is spilled
// to `.mlops/tmp/` and the runs are merged at the end. The staged shard is hashed as it is
// written. Measured: about 310 MiB peak RSS for 1,000,000 new outcomes (bench/data-collect.mjs).
import { createHash } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm, readFile, type FileHandle } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FileEdit } from '../git/repo.js';
import { MlopsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { DigestTable, hash32, hash32Bytes } from './digest-table.js';
import { indexSealed, SealedIndex } from './sealed-index.js';
import { mergeSources, compareEntries, sortEntry, rowEntry, sameKey, type SortEntry, type SortedSource } from './sort-entry.js';
import { LOCK_FILE, planLockUpdate, serializeLock, assertDatasetName, emptyLock, type DatasetLock, type LockShard, type MergeStrategy } from './lock.js';
import { applyStrategy, hashRows, shardSource } from './merged.js';
import { emptyStats, storeBytes, type StoreStats, type StoreWarning } from './outcome-store.js';
import { scanStoreRows } from './store-rows.js';
import { RowSorter } from './row-sorter.js';
import type { OutcomeRecord } from './outcome.js';
import { readLock } from './read-lock.js';
import { outcomeToRow, rowTaskId, SHARD_HEADER, SHARD_SCHEMA, shardPath, timestampMs } from './shard.js';
import { ShardRowReader } from './shard-reader.js';
import { hashFile } from './hash-file.js';

export { SealedIndex } from './sealed-index.js';

export interface DroppedSummary {
  /** Exact copies among the new records (beyond the first). */
  duplicate: number;
  /** A different record for a task_id sealed earlier (append). */
  conflict: number;
  /** A different record for a sealed task_id, not later than the sealed one (dedupe). */
  stale: number;
  /** Older versions among the new records of one task_id. */
  superseded: number;
  /** Store lines that are not valid records (invalid, too long, not UTF-8). */
  invalid: number;
}

export interface CollectSummary {
  dataset: string;
  mergeStrategy: MergeStrategy;
  /** Whether datasets.lock changes (a new shard, or a changed merge strategy). */
  changed: boolean;
  /** Valid records read from the store. */
  read: number;
  /** Records whose exact row is already in a locked shard (not new, not an error). */
  sealed: number;
  /** Rows of the new shard. */
  newRows: number;
  /** Of which replace a sealed task_id's record (dedupe). */
  updates: number;
  dropped: DroppedSummary;
  /** Lines at the end of a store file without a line ending (torn or in flight); not read. */
  truncated: number;
  /** The new lock entry, or null when nothing was sealed. */
  shard: LockShard | null;
  merged: { sha256: string; rows: number };
  previousMerged: { sha256: string; rows: number } | null;
  store: { files: number; bytes: number };
}

/** A collect computed but not yet applied: the shard is staged in `.mlops/tmp/`. */
export interface PreparedCollect {
  summary: CollectSummary;
  /** Absolute path of the staged shard (null when nothing new). */
  staged: string | null;
  /** New datasets.lock text (null when unchanged). */
  lockText: string | null;
}

export interface PrepareCollectOptions {
  dir: string;
  dataset: string;
  /** Default: the dataset's strategy in the lock, else 'append'. */
  mergeStrategy?: MergeStrategy;
  now: Date;
  onWarning?: (w: StoreWarning) => void;
  /** Rows per in-memory sort chunk (tests use small values to force spilling). */
  chunkRows?: number;
  /** Worker threads parsing the store (default: automatic, see store-rows.ts). */
  workers?: number;
  /** Bytes per parse range (tests). */
  rangeBytes?: number;
}

/** Counting and choosing, shared by the streaming collect and the in-memory planner. */
class Classifier {
  readonly dropped: DroppedSummary = { duplicate: 0, conflict: 0, stale: 0, superseded: 0, invalid: 0 };
  sealedCount = 0;
  read = 0;
  /** task_id -> greatest timestamp among the new candidates; flag 1 = the task was sealed. */
  readonly fresh: DigestTable;

  /** Whether some task_id came more than once among the candidates (else there is nothing to choose). */
  private repeats = false;

  get hasRepeats(): boolean {
    return this.repeats;
  }

  constructor(
    readonly strategy: MergeStrategy,
    readonly sealed: SealedIndex,
    /** Expected number of records (sizes the table once instead of growing it). */
    expected = 1 << 16,
  ) {
    this.fresh = new DigestTable(Math.min(expected, 1 << 24));
  }

  /** Timestamp (ms) and task_id of the row last passed to accept(). */
  lastT = 0;
  lastId = '';

  /** Whether a canonical row is a candidate for the new shard (else it is counted as dropped). */
  accept(row: string): boolean {
    return this.acceptRow(rowTaskId(row), timestampMs(row), row, null, 0, 0);
  }

  /** accept() of the row data[start, end) (UTF-8, with its LF) whose timestamp and task_id are known. */
  acceptBytes(data: Buffer, start: number, end: number, t: number, id: string): boolean {
    return this.acceptRow(id, t, null, data, start, end);
  }

  /** The row is given as text or as bytes; its hash is only needed for a sealed task_id. */
  private acceptRow(id: string, t: number, row: string | null, data: Buffer | null, start: number, end: number): boolean {
    this.read++;
    this.lastT = t;
    this.lastId = id;
    let update = 0;
    if (this.sealed.size) {
      const s = this.sealed.tasks.find(id);
      if (s >= 0) {
        if (this.sealed.hasHashAt(s, id, row !== null ? hash32(row) : hash32Bytes(data!, start, end))) {
          this.sealedCount++;
          return false;
        }
        if (this.strategy === 'append') {
          this.dropped.conflict++;
          return false;
        }
        if (!(t > this.sealed.tasks.valueAt(s))) {
          this.dropped.stale++;
          return false;
        }
        update = 1;
      }
    }
    const slot = this.fresh.insert(id);
    if (this.fresh.inserted) this.fresh.setValueAt(slot, t);
    else {
      this.repeats = true;
      if (this.fresh.valueAt(slot) < t) this.fresh.setValueAt(slot, t);
    }
    if (update) this.fresh.setFlagsAt(slot, 1);
    return true;
  }

  /** accept() as a sort entry (the in-memory planner). */
  classify(row: string): SortEntry | null {
    return this.accept(row) ? sortEntry(this.lastT, this.lastId, row) : null;
  }

  /**
   * Writes the new shard's rows from the candidates in canonical order (streaming collect): per
   * task_id the latest, and among equal timestamps the greatest row; same rule as feed().
   * Returns rows and updates written.
   */
  async writeSelected(sorter: RowSorter, write: (bytes: Buffer) => Promise<void>): Promise<{ rows: number; updates: number }> {
    let rows = 0;
    let updates = 0;
    const checkUpdates = this.sealed.size > 0;
    if (!this.repeats && !checkUpdates) {
      // Every candidate goes in and none can be an update: the sorted bytes as they are.
      for await (const b of sorter.sortedBytes()) {
        rows += b.n;
        await write(b.data);
      }
      return { rows, updates };
    }
    const sorted = sorter.sorted();
    if (!this.repeats) {
      // Every task_id came once: all candidates go in, batch bytes as they are.
      for await (const b of sorted) {
        if (checkUpdates) for (let i = 0; i < b.n; i++) if (this.flagOf(b.id[i]!)) updates++;
        rows += b.n;
        await write(b.data);
      }
      return { rows, updates };
    }
    // prev: the last kept row, not yet written (a later row with the same key may replace it).
    let prev: { t: number; id: string; data: Buffer; start: number; end: number } | null = null;
    let out: Buffer[] = [];
    const emit = (p: NonNullable<typeof prev>) => {
      out.push(p.data.subarray(p.start, p.end));
      rows++;
      if (checkUpdates && this.flagOf(p.id)) updates++;
    };
    for await (const b of sorted) {
      for (let i = 0; i < b.n; i++) {
        const t = b.t[i]!;
        const id = b.id[i]!;
        if (t < this.fresh.get(id)!) {
          this.dropped.superseded++;
          continue;
        }
        const start = b.off[i]!;
        const end = b.off[i + 1]!;
        if (prev && prev.t === t && prev.id === id) {
          if (prev.data.compare(b.data, start, end, prev.start, prev.end) === 0) this.dropped.duplicate++;
          else this.dropped.superseded++;
        } else if (prev) emit(prev);
        prev = { t, id, data: b.data, start, end };
      }
      if (out.length) {
        await write(Buffer.concat(out));
        out = [];
      }
    }
    if (prev) emit(prev);
    if (out.length) await write(Buffer.concat(out));
    return { rows, updates };
  }

  private flagOf(id: string): boolean {
    const slot = this.fresh.find(id);
    return slot >= 0 && this.fresh.flagsAt(slot) === 1;
  }

  private prev: SortEntry | null = null;

  /**
   * Picks the rows of the new shard from the candidates, fed in canonical order: per task_id the
   * one with the latest timestamp, and among equal timestamps the last (greatest) row. Returns
   * the row that is now final, if any; flush() returns the last one.
   */
  feed(e: SortEntry): SortEntry | null {
    if (!this.repeats) return e; // every task_id came once: nothing to drop
    if (e.t < this.fresh.get(e.id)!) {
      this.dropped.superseded++;
      return null;
    }
    const prev = this.prev;
    this.prev = e;
    if (prev && sameKey(prev, e)) {
      if (prev.r === e.r) this.dropped.duplicate++;
      else this.dropped.superseded++;
      return null;
    }
    return prev;
  }

  flush(): SortEntry | null {
    const p = this.prev;
    this.prev = null;
    return p;
  }

  /** New tasks that replace a sealed record. */
  countFlagged(): number {
    return this.fresh.countFlags(1);
  }

  isUpdate(e: SortEntry): boolean {
    if (this.sealed.size === 0) return false; // nothing sealed, nothing to update
    const slot = this.fresh.find(e.id);
    return slot >= 0 && this.fresh.flagsAt(slot) === 1;
  }
}

/** `2026-11-22T02:00:04Z`: the lock's created_at (seconds are enough for an audit trail). */
export function lockTimestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function resolveStrategy(lock: DatasetLock, dataset: string, requested: MergeStrategy | undefined): MergeStrategy {
  return requested ?? lock.datasets[dataset]?.merge_strategy ?? 'append';
}

function summaryOf(args: {
  dataset: string;
  strategy: MergeStrategy;
  c: Classifier;
  updates: number;
  shard: LockShard | null;
  merged: { sha256: string; rows: number };
  previous: { sha256: string; rows: number } | null;
  changed: boolean;
  stats: StoreStats;
}): CollectSummary {
  const { c, stats } = args;
  return {
    dataset: args.dataset,
    mergeStrategy: args.strategy,
    changed: args.changed,
    read: c.read,
    sealed: c.sealedCount,
    newRows: args.shard?.rows ?? 0,
    updates: args.updates,
    dropped: { ...c.dropped, invalid: stats.skipped.invalid + stats.skipped.too_long + stats.skipped.not_utf8 },
    truncated: stats.skipped.truncated,
    shard: args.shard,
    merged: args.merged,
    previousMerged: args.previous,
    store: { files: stats.files, bytes: stats.bytes },
  };
}

/**
 * Reads the store and the lock, stages the new shard under `.mlops/tmp/` and computes the new
 * lock, without touching the working tree. Apply with applyCollect, or discard with
 * discardCollect.
 */
export async function prepareCollect(opts: PrepareCollectOptions): Promise<PreparedCollect> {
  assertDatasetName(opts.dataset);
  const { lock } = await readLock(opts.dir);
  const strategy = resolveStrategy(lock, opts.dataset, opts.mergeStrategy);
  const prev = lock.datasets[opts.dataset];
  const shards = prev?.shards ?? [];
  const sealed = await indexSealed(opts.dir, shards);
  // JSON lines of outcomes take 250-600 bytes: this over-estimates the records a little; a CSV
  // row is about 60% of its JSON line.
  const inStore = await storeBytes(opts.dir);
  const c = new Classifier(strategy, sealed, Math.ceil(inStore / 250));

  const tmp = join(opts.dir, '.mlops', 'tmp');
  await mkdir(tmp, { recursive: true });
  const stagedName = () => join(tmp, `shard-${process.pid}-${randomBytes(4).toString('hex')}.csv`);
  let staged = stagedName();
  // Every staged file made (the second one when the sort had to merge); all but the one kept
  // are removed at the end.
  const stagedFiles = [staged];
  let keepStaged = false;
  let keep = new Uint32Array(0); // indices of the candidates of a chunk
  let fh: FileHandle | null = await open(staged, 'w');
  let out = new ShardOutput(fh);
  const sorter = new RowSorter({
    tmpDir: tmp,
    chunkRows: opts.chunkRows,
    expectedBytes: Math.ceil(inStore * 0.65),
    // Sorted chunks that continue the order go straight into the staged shard (see row-sorter.ts).
    direct: { path: staged, fh, start: SHARD_HEADER.length, onBytes: (b) => out.hashed(b) },
  });
  try {
    await out.write(Buffer.from(SHARD_HEADER));
    const stats = await scanStoreRows({
      dir: opts.dir,
      onWarning: opts.onWarning,
      workers: opts.workers,
      rangeBytes: opts.rangeBytes,
      onChunk: async (ch) => {
        if (keep.length < ch.n) keep = new Uint32Array(Math.max(ch.n, keep.length * 2));
        const { data, off, t, ids } = ch;
        let k = 0;
        let bytes = 0;
        for (let i = 0; i < ch.n; i++) {
          if (c.acceptBytes(data, off[i]!, off[i + 1]!, t[i]!, ids[i]!)) {
            keep[k++] = i;
            bytes += off[i + 1]! - off[i]!;
          }
        }
        await sorter.reserve(k, bytes);
        sorter.pushRows(data, off, t, ids, keep, k);
      },
    });

    let written: { rows: number; updates: number };
    // Spill the last rows first either way: after this, nothing writes to the first file.
    const allDirect = await sorter.finishDirect();
    if (allDirect && !c.hasRepeats) {
      // Every candidate is new, once, and already in the staged shard in canonical order.
      written = { rows: sorter.count, updates: c.sealed.size ? c.countFlagged() : 0 };
    } else {
      // Merge the runs (the staged file's rows among them) into a second staged file.
      await out.finish(false);
      staged = stagedName();
      stagedFiles.push(staged);
      fh = await open(staged, 'w');
      out = new ShardOutput(fh);
      await out.write(Buffer.from(SHARD_HEADER));
      written = await c.writeSelected(sorter, (b) => out.write(b));
    }
    await out.finish();
    await sorter.cleanup();
    const { rows, updates } = written;
    const { hash, bytes } = out;

    const sha256 = hash.digest('hex');
    const createdAt = lockTimestamp(opts.now);
    const shard: LockShard | null = rows > 0 ? { path: shardPath(opts.dataset, createdAt, sha256), sha256, bytes, rows, created_at: createdAt } : null;
    const previous = prev ? { ...prev.merged } : null;
    const strategyChanged = prev !== undefined && prev.merge_strategy !== strategy;

    let merged: { sha256: string; rows: number };
    if (!shard && !strategyChanged) {
      merged = previous ?? { sha256: createHash('sha256').update(SHARD_HEADER).digest('hex'), rows: 0 };
    } else if (shard && shards.length === 0) {
      merged = { sha256: shard.sha256, rows: shard.rows }; // one shard: the merged set is the shard
    } else {
      // Tasks of the new shard now have their (later) timestamps in the sealed table.
      const latest = sealed.tasks;
      if (shard && strategy === 'dedupe') {
        const reader = new ShardRowReader(staged, shard.path, shard);
        for (let b = await reader.next(); b; b = await reader.next()) {
          for (const row of b) {
            const slot = latest.insert(rowTaskId(row));
            const t = timestampMs(row);
            if (latest.inserted || latest.valueAt(slot) < t) latest.setValueAt(slot, t);
          }
        }
      }
      const sources: SortedSource<SortEntry>[] = shards.map((s) => shardSource(ShardRowReader.forEntry(opts.dir, s)));
      if (shard) sources.push(shardSource(new ShardRowReader(staged, shard.path, shard)));
      merged = await hashRows(applyStrategy(mergeSources(sources, compareEntries), strategy, strategy === 'dedupe' ? latest : null));
    }

    const changed = shard !== null || strategyChanged;
    const lockText = changed
      ? serializeLock(planLockUpdate(lock, { dataset: opts.dataset, schema: prev?.schema ?? SHARD_SCHEMA, mergeStrategy: strategy, shard, merged }))
      : null;
    keepStaged = shard !== null;
    return {
      staged: shard ? staged : null,
      lockText,
      summary: summaryOf({ dataset: opts.dataset, strategy, c, updates, shard, merged, previous, changed: lockText !== null, stats }),
    };
  } finally {
    await out.finish(false).catch(() => undefined);
    await sorter.cleanup();
    for (const f of stagedFiles) if (!keepStaged || f !== staged) await rm(f, { force: true });
  }
}

/** Writes all of buf at `position` (a write may be short). */
async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * The staged shard being written: hashed as it is written, one write in flight while the next
 * block is prepared, and a datasync every 64 MiB in the background so the final sync has little
 * left to wait for. finish() syncs and closes it (once).
 */
class ShardOutput {
  readonly hash = createHash('sha256');
  bytes = 0;
  private inflight: Promise<void> = Promise.resolve();
  private syncing: Promise<void> = Promise.resolve();
  private synced = 0;
  private done: Promise<void> | null = null;

  constructor(private readonly fh: FileHandle) {}

  /** Bytes written to the file by someone else (the sorter), in file order. */
  hashed(buf: Buffer): void {
    this.hash.update(buf);
    this.bytes += buf.length;
    this.maybeSync();
  }

  async write(buf: Buffer): Promise<void> {
    this.hash.update(buf);
    const at = this.bytes;
    this.bytes += buf.length;
    await this.inflight;
    this.inflight = settled(writeAll(this.fh, buf, at));
    this.maybeSync();
  }

  private maybeSync(): void {
    if (this.bytes - this.synced < 64 << 20) return;
    // Writes go on meanwhile; one datasync at a time.
    this.synced = this.bytes;
    this.syncing = settled(Promise.all([this.syncing, this.inflight]).then(() => this.fh.datasync()));
  }

  /** Waits for the writes, syncs (unless the file is only an input from now on) and closes. */
  finish(sync = true): Promise<void> {
    this.done ??= (async () => {
      try {
        await this.inflight;
        await this.syncing;
        if (sync) await this.fh.sync();
      } finally {
        await Promise.all([this.inflight, this.syncing]).catch(() => undefined);
        await this.fh.close();
      }
    })();
    return this.done;
  }
}

/** A promise awaited later: marked handled now so a failure is not an unhandled rejection meanwhile. */
function settled(p: Promise<void>): Promise<void> {
  p.catch(() => undefined);
  return p;
}

/** The file edits of a prepared collect (shard first, lock last), e.g. for a commit elsewhere. */
export async function collectEdits(p: PreparedCollect): Promise<FileEdit[]> {
  const edits: FileEdit[] = [];
  if (p.summary.shard && p.staged) edits.push({ path: p.summary.shard.path, content: await readFile(p.staged) });
  if (p.lockText !== null) edits.push({ path: LOCK_FILE, content: p.lockText });
  return edits;
}

/**
 * Writes a prepared collect into the working tree: the shard first (renamed into place, so it
 * is whole or absent), datasets.lock last (atomic replace). A crash in between leaves an
 * untracked shard that the next collect recreates identically. Returns the paths written.
 */
export async function applyCollect(dir: string, p: PreparedCollect): Promise<string[]> {
  const written: string[] = [];
  if (p.summary.shard && p.staged) {
    const target = join(dir, p.summary.shard.path);
    await mkdir(dirname(target), { recursive: true });
    // Same name and same bytes: a collect that crashed before writing the lock, run again.
    const existing = await hashFile(target).catch(() => null);
    if (existing && existing.sha256 !== p.summary.shard.sha256) throw shardExists(p.summary.shard.path);
    try {
      await rename(p.staged, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      // .mlops on another file system: copy, then drop the staged file.
      await copyFile(p.staged, target);
      await rm(p.staged, { force: true });
    }
    written.push(p.summary.shard.path);
  }
  if (p.lockText !== null) {
    await writeFileAtomic(join(dir, LOCK_FILE), p.lockText);
    written.push(LOCK_FILE);
  }
  return written;
}

/** Removes the staged shard of a collect that will not be applied. */
export async function discardCollect(p: PreparedCollect): Promise<void> {
  if (p.staged) await rm(p.staged, { force: true });
}

// ---- the same rules on in-memory data (pure) ----

export interface CollectInput {
  lock: DatasetLock;
  dataset: string;
  mergeStrategy?: MergeStrategy;
  /** Canonical rows (with LF) of each locked shard of the dataset, in lock order. */
  sealedRows: string[][];
  /** Valid store records, in any order. */
  outcomes: Iterable<OutcomeRecord>;
  /** Store lines that were not valid records (for the counts). */
  invalid?: number;
  now: Date;
}

export interface CollectPlan {
  summary: CollectSummary;
  /** Shard first, datasets.lock last; empty when nothing changes. */
  edits: FileEdit[];
  lock: DatasetLock;
}

/**
 * The collect of in-memory records: same rules and same bytes as prepareCollect, as a pure
 * function (no fs, no clock). For small inputs, tests and dry runs.
 */
export function planCollect(input: CollectInput): CollectPlan {
  assertDatasetName(input.dataset);
  const lock = input.lock ?? emptyLock();
  const strategy = resolveStrategy(lock, input.dataset, input.mergeStrategy);
  const prev = lock.datasets[input.dataset];
  const total = input.sealedRows.reduce((n, s) => n + s.length, 0);
  const sealed = new SealedIndex(total);
  for (const s of input.sealedRows) for (const row of s) sealed.add(row);
  const c = new Classifier(strategy, sealed);
  const candidates: SortEntry[] = [];
  for (const r of input.outcomes) {
    const e = c.classify(outcomeToRow(r));
    if (e) candidates.push(e);
  }
  candidates.sort(compareEntries);
  const selected: SortEntry[] = [];
  for (const e of candidates) {
    const done = c.feed(e);
    if (done) selected.push(done);
  }
  const last = c.flush();
  if (last) selected.push(last);

  const text = SHARD_HEADER + selected.map((e) => e.r).join('');
  const sha256 = createHash('sha256').update(text).digest('hex');
  const createdAt = lockTimestamp(input.now);
  const shard: LockShard | null = selected.length
    ? { path: shardPath(input.dataset, createdAt, sha256), sha256, bytes: Buffer.byteLength(text), rows: selected.length, created_at: createdAt }
    : null;
  const strategyChanged = prev !== undefined && prev.merge_strategy !== strategy;

  // Merged set: all rows, canonical order, strategy applied.
  const all = [...input.sealedRows.flat(), ...selected.map((e) => e.r)].map(rowEntry).sort(compareEntries);
  const latest = new Map<string, number>();
  for (const e of all) latest.set(e.id, Math.max(latest.get(e.id) ?? -Infinity, e.t));
  const kept: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!;
    if (strategy === 'dedupe') {
      if (e.t < latest.get(e.id)!) continue;
      if (i + 1 < all.length && sameKey(all[i + 1]!, e)) continue;
    }
    kept.push(e.r);
  }
  const merged = { sha256: createHash('sha256').update(SHARD_HEADER + kept.join('')).digest('hex'), rows: kept.length };
  const changed = shard !== null || strategyChanged;
  const next = changed ? planLockUpdate(lock, { dataset: input.dataset, schema: prev?.schema ?? SHARD_SCHEMA, mergeStrategy: strategy, shard, merged }) : lock;
  const edits: FileEdit[] = [];
  if (shard) edits.push({ path: shard.path, content: text });
  if (changed) edits.push({ path: LOCK_FILE, content: serializeLock(next) });
  const updates = selected.filter((e) => c.isUpdate(e)).length;
  const stats = emptyStats();
  stats.skipped.invalid = input.invalid ?? 0;
  return {
    summary: summaryOf({ dataset: input.dataset, strategy, c, updates, shard, merged, previous: prev ? { ...prev.merged } : null, changed, stats }),
    edits,
    lock: next,
  };
}

/** Thrown when a shard name is taken by a file with other content (8-hex prefix collision). */
export function shardExists(path: string): MlopsError {
  return new MlopsError('SHARD_EXISTS', `${path} already exists with different content`, {
    hint: 'Two different shards share a date and 8-hex prefix; move the untracked file away and collect again.',
  });
}

/** What the next collect would seal, without sorting or writing anything (for `data status`). */
export async function countNewOutcomes(opts: { dir: string; dataset: string; mergeStrategy?: MergeStrategy; onWarning?: (w: StoreWarning) => void; workers?: number }): Promise<{
  read: number;
  sealed: number;
  /** Rows the next collect would seal (one per distinct task_id). */
  newRows: number;
  updates: number;
  dropped: Pick<DroppedSummary, 'conflict' | 'stale' | 'invalid'>;
  truncated: number;
  store: { files: number; bytes: number };
}> {
  const { lock } = await readLock(opts.dir);
  const strategy = resolveStrategy(lock, opts.dataset, opts.mergeStrategy);
  const sealed = await indexSealed(opts.dir, lock.datasets[opts.dataset]?.shards ?? []);
  const c = new Classifier(strategy, sealed);
  let updates = 0;
  const stats = await scanStoreRows({
    dir: opts.dir,
    onWarning: opts.onWarning,
    workers: opts.workers,
    onChunk: ({ n, data, off, t, ids }) => {
      for (let i = 0; i < n; i++) c.acceptBytes(data, off[i]!, off[i + 1]!, t[i]!, ids[i]!);
    },
  });
  // A task is new once, however many versions the store holds; flag 1 marks an update.
  updates = c.countFlagged();
  return {
    read: c.read,
    sealed: c.sealedCount,
    newRows: c.fresh.size,
    updates,
    dropped: { conflict: c.dropped.conflict, stale: c.dropped.stale, invalid: stats.skipped.invalid + stats.skipped.too_long + stats.skipped.not_utf8 },
    truncated: stats.skipped.truncated,
    store: { files: stats.files, bytes: stats.bytes },
  };
}
