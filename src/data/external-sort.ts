// Sorting more rows than should sit in memory: rows are gathered into chunks (bounded by row
// count and characters), each chunk is sorted and spilled to a temporary run file, and the runs
// are merged with a heap. With one chunk nothing touches the disk. Memory is one chunk plus one
// read buffer per run.
//
// Run file framing: each entry is `<task_id>\x01<row>\x00`. Neither can hold bytes 0x00 or
// 0x01: the outcome schema refuses control characters in every text field except TAB/CR/LF in
// failure_reason, and JSON escapes them inside features.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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

export interface ExternalSorterOptions {
  /** Directory for run files (created, and removed by cleanup()). */
  tmpDir: string;
  /** Rows per in-memory chunk. */
  chunkRows?: number;
  /** Characters of rows per in-memory chunk. */
  chunkChars?: number;
}

export class ExternalSorter {
  private chunk: SortEntry[] = [];
  private chars = 0;
  private runs: string[] = [];
  private readonly chunkRows: number;
  private readonly chunkChars: number;
  private readonly runDir: string;
  count = 0;

  constructor(private readonly opts: ExternalSorterOptions) {
    this.chunkRows = opts.chunkRows ?? 250_000;
    this.chunkChars = opts.chunkChars ?? 64 << 20;
    this.runDir = join(opts.tmpDir, `sort-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** Adds an entry; spills the chunk to a run file when full. */
  async add(e: SortEntry): Promise<void> {
    this.chunk.push(e);
    this.count++;
    this.chars += e.r.length;
    if (this.chunk.length >= this.chunkRows || this.chars >= this.chunkChars) await this.spill();
  }

  /** True when the next add() would spill (callers that batch can await only then). */
  get full(): boolean {
    return this.chunk.length >= this.chunkRows || this.chars >= this.chunkChars;
  }

  /** Adds without spilling; call spillIfFull() afterwards. */
  push(e: SortEntry): void {
    this.chunk.push(e);
    this.count++;
    this.chars += e.r.length;
  }

  async spillIfFull(): Promise<void> {
    if (this.full) await this.spill();
  }

  private async spill(): Promise<void> {
    if (!this.chunk.length) return;
    this.chunk.sort(compareEntries);
    await mkdir(this.runDir, { recursive: true });
    const path = join(this.runDir, `run-${this.runs.length}`);
    const fh = await open(path, 'w');
    try {
      let parts: string[] = [];
      let size = 0;
      for (const e of this.chunk) {
        parts.push(e.id, '\x01', e.r, '\x00');
        size += e.id.length + e.r.length + 2;
        if (size > 4 << 20) {
          await fh.write(parts.join(''));
          parts = [];
          size = 0;
        }
      }
      if (parts.length) await fh.write(parts.join(''));
    } finally {
      await fh.close();
    }
    this.runs.push(path);
    this.chunk = [];
    this.chars = 0;
  }

  /** All entries in order. Call once, after the last add. */
  async *sorted(): AsyncGenerator<SortEntry[]> {
    if (this.runs.length === 0) {
      this.chunk.sort(compareEntries);
      for (let i = 0; i < this.chunk.length; i += 4096) yield this.chunk.slice(i, i + 4096);
      this.chunk = [];
      return;
    }
    await this.spill();
    const readers = this.runs.map((p) => new RunReader(p));
    try {
      yield* mergeSources(readers, compareEntries);
    } finally {
      for (const r of readers) await r.close();
    }
  }

  async cleanup(): Promise<void> {
    this.chunk = [];
    await rm(this.runDir, { recursive: true, force: true });
  }
}

/** A source of sorted items, read in batches. */
export interface SortedSource<T> {
  next(): Promise<T[] | null>;
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
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number) => {
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
  };
  for (let s = 0; s < sources.length; s++) {
    bufs[s] = [];
    idx[s] = 0;
    let b = await sources[s]!.next();
    while (b && b.length === 0) b = await sources[s]!.next();
    if (b) {
      bufs[s] = b;
      heap.push(s);
      up(heap.length - 1);
    }
  }
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

/** Reads the entries of one run file back in batches. */
class RunReader implements SortedSource<SortEntry> {
  private fh: FileHandle | null = null;
  private pos = 0;
  private carry: Buffer | null = null;
  private done = false;
  private readonly buf = Buffer.allocUnsafe(1 << 20);

  constructor(private readonly path: string) {}

  async next(): Promise<SortEntry[] | null> {
    if (this.done) return null;
    this.fh ??= await open(this.path, 'r');
    for (;;) {
      const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, this.pos);
      if (bytesRead === 0) {
        this.done = true;
        await this.close();
        return null;
      }
      this.pos += bytesRead;
      let data: Buffer = this.buf.subarray(0, bytesRead);
      if (this.carry) data = Buffer.concat([this.carry, data]);
      const out: SortEntry[] = [];
      let start = 0;
      for (;;) {
        const end = data.indexOf(0, start);
        if (end < 0) break;
        const sep = data.indexOf(1, start);
        const r = data.toString('utf8', sep + 1, end);
        out.push(sortEntry(timestampMs(r), data.toString('utf8', start, sep), r));
        start = end + 1;
      }
      this.carry = start < data.length ? Buffer.from(data.subarray(start)) : null;
      if (out.length) return out;
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }
}
