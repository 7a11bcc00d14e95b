// The canonical merged training set of a dataset: the rows of all its shards in canonical order
// (timestamp, task_id, row text), with the merge strategy applied, written as one canonical CSV
// (SHARD_HEADER + rows). Its SHA-256 is `merged.sha256` in datasets.lock and `dataset.sha256` in
// a manifest. Because it is defined on the set of rows, not on how they were split into shards,
// any tool that can sort a CSV can recompute it.
//
// - append: every row of every shard.
// - dedupe: per task_id, the record with the latest timestamp (ties, which collect never
//   creates, go to the greater row text). Collect seals an update only when its timestamp is
//   later than the sealed one, so this is also the record of the latest shard.
import { createHash } from 'node:crypto';
import { DigestTable } from './digest-table.js';
import { mergeSources, rowEntry, compareEntries, sameKey, type SortEntry, type SortedSource } from './sort-entry.js';
import type { LockShard, MergeStrategy } from './lock.js';
import { SHARD_HEADER } from './shard.js';
import { ShardRowReader } from './shard-reader.js';

/** A shard's rows as a sorted source of entries. */
export function shardSource(reader: ShardRowReader): SortedSource<SortEntry> {
  return {
    async next() {
      const rows = await reader.next();
      return rows ? rows.map(rowEntry) : null;
    },
  };
}

export { timestampMs } from './shard.js';

/**
 * Applies the merge strategy to a stream of entries in canonical order. For dedupe, `latest`
 * maps each task_id to its greatest timestamp (ms) over everything in the stream.
 */
export async function* applyStrategy(
  sorted: AsyncIterable<SortEntry[]>,
  strategy: MergeStrategy,
  latest: DigestTable | null,
): AsyncGenerator<SortEntry[]> {
  if (strategy === 'append') {
    yield* sorted;
    return;
  }
  if (!latest) throw new Error('dedupe needs the latest-timestamp table');
  let prev: SortEntry | null = null;
  for await (const batch of sorted) {
    const out: SortEntry[] = [];
    for (const e of batch) {
      if (e.t < latest.get(e.id)!) continue; // an older version of this task
      if (prev && sameKey(prev, e)) {
        prev = e; // same timestamp and task: the greater row (later in order) wins
        continue;
      }
      if (prev) out.push(prev);
      prev = e;
    }
    if (out.length) yield out;
  }
  if (prev) yield [prev];
}

/** Hashes a stream of entries as the canonical CSV (header + rows). */
export async function hashRows(rows: AsyncIterable<SortEntry[]>, onRows?: (batch: SortEntry[]) => void): Promise<{ sha256: string; rows: number }> {
  const h = createHash('sha256');
  h.update(SHARD_HEADER);
  let n = 0;
  for await (const batch of rows) {
    let text = '';
    for (const e of batch) text += e.r;
    h.update(text);
    n += batch.length;
    onRows?.(batch);
  }
  return { sha256: h.digest('hex'), rows: n };
}

/**
 * Streams the merged set of shards (read from disk and verified against their lock entries).
 * `extra` are further sorted sources (a staged shard). For dedupe, a first pass over the shards
 * builds the latest-timestamp table unless `latest` is given.
 */
export async function mergedStream(args: {
  dir: string;
  shards: LockShard[];
  strategy: MergeStrategy;
  latest?: DigestTable | null;
  extra?: Array<() => SortedSource<SortEntry>>;
}): Promise<AsyncIterable<SortEntry[]>> {
  let latest = args.latest ?? null;
  if (args.strategy === 'dedupe' && !latest) {
    latest = new DigestTable(args.shards.reduce((n, s) => n + s.rows, 0));
    const sources = [...args.shards.map((s) => shardSource(ShardRowReader.forEntry(args.dir, s))), ...(args.extra ?? []).map((f) => f())];
    for (const src of sources) {
      for (let b = await src.next(); b; b = await src.next()) {
        for (const e of b) {
          const slot = latest.insert(e.id);
          if (latest.inserted || latest.valueAt(slot) < e.t) latest.setValueAt(slot, e.t);
        }
      }
    }
  }
  const sources = [...args.shards.map((s) => shardSource(ShardRowReader.forEntry(args.dir, s))), ...(args.extra ?? []).map((f) => f())];
  return applyStrategy(mergeSources(sources, compareEntries), args.strategy, latest);
}

/** `merged` of datasets.lock for these shards, recomputed from the files. */
export async function computeMergedHash(args: { dir: string; shards: LockShard[]; strategy: MergeStrategy }): Promise<{ sha256: string; rows: number }> {
  return hashRows(await mergedStream(args));
}
