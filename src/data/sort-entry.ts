// Canonical order of shard rows as sort entries, and the k-way merge of sorted sources (the
// shards of a dataset, read in batches). Collect sorts its new rows with row-sorter.ts.
import { compareText, rowTaskId, timestampMs } from './shard.js';

export interface SortEntry {
  /** Timestamp of the row, ms since the epoch (the first sort key). */
  t: number;
  /** task_id (the second sort key). */
  id: string;
  /** The row. Ties on (t, id) are ordered by row text. */
  r: string;
  /** Whether the task_id holds UTF-16 units >= U+D800 (then native < is not code point order). */
  h: boolean;
}

const HIGH = /[\ud800-\uffff]/;

export function sortEntry(t: number, id: string, r: string): SortEntry {
  return { t, id, r, h: HIGH.test(id) };
}

/** An entry for a canonical row (timestamp and task_id read from the row). */
export function rowEntry(r: string): SortEntry {
  const id = rowTaskId(r);
  return { t: timestampMs(r), id, r, h: HIGH.test(id) };
}

/** Same (timestamp, task_id). */
export function sameKey(a: SortEntry, b: SortEntry): boolean {
  return a.t === b.t && a.id === b.id;
}

/**
 * Canonical order: timestamp, then task_id and row text in code point order. Native < compares
 * UTF-16 units, which equals code point order unless both task_ids hold units >= U+D800; only
 * then the slower compareText runs.
 */
export function compareEntries(a: SortEntry, b: SortEntry): number {
  if (a.t !== b.t) return a.t - b.t;
  if (a.id !== b.id) return a.h && b.h ? compareText(a.id, b.id) : a.id < b.id ? -1 : 1;
  if (a.r === b.r) return 0;
  // Same timestamp and task_id, different rows: rare, so the exact comparison always runs.
  return compareText(a.r, b.r);
}

/** A source of sorted items, read in batches. */
export interface SortedSource<T> {
  next(): Promise<T[] | null>;
}

/** Restores the heap property below i of a binary min-heap of source indices ordered by `less`. */
export function siftDown(heap: number[], i: number, less: (a: number, b: number) => boolean): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}

/**
 * k-way merge of sorted sources with a binary heap; yields the merged items in batches.
 * Ties keep the source order (lower index first), which keeps merges deterministic.
 */
export async function* mergeSources<T>(sources: SortedSource<T>[], cmp: (a: T, b: T) => number, batchSize = 4096): AsyncGenerator<T[]> {
  const bufs: T[][] = [];
  const idx: number[] = [];
  const heap: number[] = [];
  const less = (x: number, y: number): boolean => {
    const c = cmp(bufs[x]![idx[x]!]!, bufs[y]![idx[y]!]!);
    return c < 0 || (c === 0 && x < y);
  };
  const down = (i: number) => siftDown(heap, i, less);
  for (let s = 0; s < sources.length; s++) {
    bufs[s] = [];
    idx[s] = 0;
    let b = await sources[s]!.next();
    while (b && b.length === 0) b = await sources[s]!.next();
    if (b) {
      bufs[s] = b;
      heap.push(s);
    }
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let out: T[] = [];
  while (heap.length) {
    const s = heap[0]!;
    out.push(bufs[s]![idx[s]!]!);
    idx[s]!++;
    if (idx[s]! >= bufs[s]!.length) {
      let b = await sources[s]!.next();
      while (b && b.length === 0) b = await sources[s]!.next();
      if (b) {
        bufs[s] = b;
        idx[s] = 0;
        down(0);
      } else {
        const last = heap.pop()!;
        if (heap.length) {
          heap[0] = last;
          down(0);
        }
      }
    } else {
      down(0);
    }
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}
