// External sort of canonical shard rows, kept off the JS heap: each row is encoded once into a
// chunk arena (a Buffer), with its timestamp, task_id and position in typed arrays. A full chunk
// is sorted by index and spilled to a run file; runs are merged with a heap. Output comes in
// batches whose rows are already contiguous UTF-8 bytes, so writing the shard is a copy.
//
// Why not an array of row strings: a million 230-byte strings that live until the sort ends are
// copied by the young-generation collector and promoted, which cost a third of a collect; bytes
// in a Buffer are invisible to the collector.
//
// Run files: `<run>` holds the sorted rows' UTF-8 bytes back to back, `<run>.len` their lengths
// (uint32, little-endian; rows may contain LF inside quotes). The timestamp and task_id are read
// back from each row itself.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { compareText, rowTaskId, timestampMs } from './shard.js';

/** Rows in canonical order: row i is data[off[i] .. off[i + 1]). */
export interface RowBatch {
  n: number;
  t: Float64Array;
  id: string[];
  data: Buffer;
  off: Uint32Array;
}

const HIGH = /[\ud800-\uffff]/;

function digitsAt(b: Buffer, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) n = n * 10 + b[i]! - 48;
  return n;
}

/**
 * timestampMs of the row b[start, end), read from its bytes. A row too short for a timestamp or
 * with non-ASCII bytes in it (never written by collect) is decoded as timestampMs would see it.
 */
export function timestampOfRow(b: Buffer, start: number, end: number): number {
  let high = end - start < 25 ? 0x80 : 0;
  for (let i = start; i < start + 24 && !high; i++) high = b[i]! & 0x80;
  if (high) return timestampMs(b.toString('utf8', start, end));
  const year = digitsAt(b, start, 4);
  if (year < 100) return Date.parse(b.toString('latin1', start, start + 24));
  return Date.UTC(year, digitsAt(b, start + 5, 2) - 1, digitsAt(b, start + 8, 2), digitsAt(b, start + 11, 2), digitsAt(b, start + 14, 2), digitsAt(b, start + 17, 2), digitsAt(b, start + 20, 3));
}

/** task_id of a row given as bytes (decodes only the task_id when it is plain). */
export function idOfBytes(b: Buffer, start: number, end: number): string {
  const s = start + 25;
  const f = b[s];
  if (f !== 34 /* " */ && f !== 39 /* ' */) {
    // Unquoted and without the formula mark: the bytes up to the next comma are the task_id.
    let ascii = true;
    let i = s;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c === 44 || c === 10) break;
      if (c >= 0x80) ascii = false;
    }
    if (i < end && b[i] === 44) return b.toString(ascii ? 'latin1' : 'utf8', s, i);
  }
  // Quoted (doubled quotes inside) or marked: decode the row as text, whatever its length.
  return rowTaskId(b.toString('utf8', start, end));
}

function compareIds(a: string, b: string): number {
  if (HIGH.test(a) && HIGH.test(b)) return compareText(a, b);
  return a < b ? -1 : 1;
}

export interface RowSorterOptions {
  tmpDir: string;
  /** Rows per in-memory chunk (default 250,000). */
  chunkRows?: number;
  /** Bytes of rows per in-memory chunk (default 128 MiB). */
  chunkBytes?: number;
  /** Rows per output batch (default 8192). */
  batchRows?: number;
  /** Expected bytes of rows in all (sizes the arena once instead of doubling it). */
  expectedBytes?: number;
}

export class RowSorter {
  private readonly chunkRows: number;
  private readonly chunkBytes: number;
  private readonly batchRows: number;
  private arena: Buffer;
  private used = 0;
  private n = 0;
  private t: Float64Array;
  private off: Uint32Array;
  private len: Uint32Array;
  private ids: string[] = [];
  private runs: string[] = [];
  private readonly runDir: string;
  count = 0;

  constructor(opts: RowSorterOptions) {
    this.chunkRows = opts.chunkRows ?? 250_000;
    this.chunkBytes = opts.chunkBytes ?? 128 << 20;
    this.batchRows = opts.batchRows ?? 8192;
    this.arena = Buffer.allocUnsafe(Math.max(1 << 16, Math.min(this.chunkBytes + (1 << 20), opts.expectedBytes ?? 4 << 20)));
    const cap = Math.min(this.chunkRows, 16_384);
    this.t = new Float64Array(cap);
    this.off = new Uint32Array(cap);
    this.len = new Uint32Array(cap);
    this.runDir = join(opts.tmpDir, `sort-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  get full(): boolean {
    return this.n >= this.chunkRows || this.used >= this.chunkBytes;
  }

  /** Adds a row (with its timestamp in ms and task_id). Call spillIfFull() now and then. */
  push(t: number, id: string, row: string): void {
    const max = row.length * 3;
    if (this.used + max > this.arena.length) this.growArena(this.used + max);
    if (this.n === this.t.length) this.growIndex();
    const bytes = this.arena.write(row, this.used, 'utf8');
    this.t[this.n] = t;
    this.off[this.n] = this.used;
    this.len[this.n] = bytes;
    this.ids[this.n] = id;
    this.used += bytes;
    this.n++;
    this.count++;
  }

  /**
   * Adds the rows keep[0..k) of a chunk (row i is data[off[i], off[i + 1])). Rows that lie next to
   * each other are copied as one range: most of a store's rows are kept, so this is a few large
   * copies per chunk rather than one per row.
   */
  pushRows(data: Buffer, off: Uint32Array, t: Float64Array, ids: string[], keep: Uint32Array, k: number): void {
    if (k === 0) return;
    let bytes = 0;
    for (let j = 0; j < k; j++) bytes += off[keep[j]! + 1]! - off[keep[j]!]!;
    if (this.used + bytes > this.arena.length) this.growArena(this.used + bytes);
    while (this.n + k > this.t.length) this.growIndex();
    let j = 0;
    while (j < k) {
      const first = keep[j]!;
      let last = first;
      while (j + 1 < k && keep[j + 1] === last + 1) {
        last++;
        j++;
      }
      const base = this.used - off[first]!;
      for (let i = first; i <= last; i++) {
        this.t[this.n] = t[i]!;
        this.off[this.n] = base + off[i]!;
        this.len[this.n] = off[i + 1]! - off[i]!;
        this.ids[this.n] = ids[i]!;
        this.n++;
      }
      this.used += data.copy(this.arena, this.used, off[first]!, off[last + 1]!);
      j++;
    }
    this.count += k;
  }

  async spillIfFull(): Promise<void> {
    if (this.full) await this.spill();
  }

  private growArena(need: number): void {
    let size = this.arena.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.arena.copy(next, 0, 0, this.used);
    this.arena = next;
  }

  private growIndex(): void {
    const cap = this.t.length * 2;
    const t = new Float64Array(cap);
    const off = new Uint32Array(cap);
    const len = new Uint32Array(cap);
    t.set(this.t);
    off.set(this.off);
    len.set(this.len);
    this.t = t;
    this.off = off;
    this.len = len;
  }

  /** Indices of the chunk's rows in canonical order. */
  private order(): Uint32Array {
    const { t, ids, off, len, arena } = this;
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    idx.sort((a, b) => {
      if (t[a] !== t[b]) return t[a]! - t[b]!;
      const x = ids[a]!;
      const y = ids[b]!;
      if (x !== y) return compareIds(x, y);
      // Same task and time: byte order of the rows (UTF-8 byte order is code point order).
      return arena.compare(arena, off[b]!, off[b]! + len[b]!, off[a]!, off[a]! + len[a]!);
    });
    return idx;
  }

  /**
   * Calls `copy(start, end)` for the chunk's rows in the order `idx`, merging rows that lie next
   * to each other in the arena into one range. A store appended in time order is already nearly
   * sorted, so this turns a copy per row into a few large copies.
   */
  private forRanges(idx: Uint32Array, from: number, to: number, copy: (start: number, end: number) => void): void {
    let k = from;
    while (k < to) {
      const first = idx[k]!;
      let last = first;
      while (k + 1 < to && idx[k + 1] === last + 1) {
        last++;
        k++;
      }
      copy(this.off[first]!, this.off[last]! + this.len[last]!);
      k++;
    }
  }

  private async spill(): Promise<void> {
    if (this.n === 0) return;
    const idx = this.order();
    await mkdir(this.runDir, { recursive: true });
    const path = join(this.runDir, `run-${this.runs.length}`);
    // Rows go to <run> as contiguous bytes, their lengths to <run>.len (rows may hold LF).
    const lengths = new Uint32Array(this.n);
    for (let k = 0; k < this.n; k++) lengths[k] = this.len[idx[k]!]!;
    const fh = await open(path, 'w');
    try {
      const ranges: Array<[number, number]> = [];
      this.forRanges(idx, 0, this.n, (a, b) => ranges.push([a, b]));
      let pending: Buffer[] = [];
      let size = 0;
      for (const [a, b] of ranges) {
        pending.push(this.arena.subarray(a, b));
        size += b - a;
        if (size >= 4 << 20) {
          await fh.writev(pending);
          pending = [];
          size = 0;
        }
      }
      if (pending.length) await fh.writev(pending);
    } finally {
      await fh.close();
    }
    const lf = await open(`${path}.len`, 'w');
    try {
      await lf.write(new Uint8Array(lengths.buffer, lengths.byteOffset, lengths.byteLength));
    } finally {
      await lf.close();
    }
    this.runs.push(path);
    this.n = 0;
    this.used = 0;
    this.ids = [];
  }

  /** All rows in canonical order, in batches. Call once, after the last push. */
  async *sorted(): AsyncGenerator<RowBatch> {
    if (this.runs.length === 0) {
      const idx = this.order();
      for (let s = 0; s < idx.length; s += this.batchRows) {
        const e = Math.min(idx.length, s + this.batchRows);
        let bytes = 0;
        for (let k = s; k < e; k++) bytes += this.len[idx[k]!]!;
        const batch: RowBatch = { n: e - s, t: new Float64Array(e - s), id: new Array<string>(e - s), data: Buffer.allocUnsafe(bytes), off: new Uint32Array(e - s + 1) };
        let at = 0;
        for (let k = s; k < e; k++) {
          const i = idx[k]!;
          const j = k - s;
          batch.t[j] = this.t[i]!;
          batch.id[j] = this.ids[i]!;
          batch.off[j] = at;
          at += this.len[i]!;
        }
        batch.off[e - s] = at;
        let w = 0;
        this.forRanges(idx, s, e, (a, b) => {
          w += this.arena.copy(batch.data, w, a, b);
        });
        yield batch;
      }
      this.n = 0;
      this.ids = [];
      return;
    }
    await this.spill();
    this.arena = Buffer.alloc(0);
    const readers = this.runs.map((p) => new RunReader(p));
    try {
      yield* this.mergeRuns(readers);
    } finally {
      for (const r of readers) await r.close();
    }
  }

  private async *mergeRuns(readers: RunReader[]): AsyncGenerator<RowBatch> {
    // Heap of reader indices ordered by their current row.
    const heap: number[] = [];
    const less = (a: number, b: number): boolean => {
      const ra = readers[a]!;
      const rb = readers[b]!;
      const ta = ra.curT;
      const tb = rb.curT;
      if (ta !== tb) return ta < tb;
      if (ra.curId !== rb.curId) return compareIds(ra.curId, rb.curId) < 0;
      const c = ra.buf.compare(rb.buf, rb.curStart, rb.curEnd, ra.curStart, ra.curEnd);
      return c < 0 || (c === 0 && a < b);
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
    for (let i = 0; i < readers.length; i++) if (await readers[i]!.advance()) heap.push(i);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    let out = newBatch(this.batchRows, 4 << 20);
    // Rows taken one after another from the same reader buffer are copied as one range.
    let pendBuf: Buffer | null = null;
    let pendStart = 0;
    let pendEnd = 0;
    let pendAt = 0;
    const flushCopy = () => {
      if (pendBuf) pendBuf.copy(out.batch.data, pendAt, pendStart, pendEnd);
      pendBuf = null;
    };
    while (heap.length) {
      const top = heap[0]!;
      const r = readers[top]!;
      const l = r.curEnd - r.curStart;
      if (out.n === this.batchRows || out.used + l > out.batch.data.length) {
        flushCopy();
        yield finish(out);
        out = newBatch(this.batchRows, Math.max(4 << 20, l));
      }
      out.batch.t[out.n] = r.curT;
      out.batch.id[out.n] = r.curId;
      out.batch.off[out.n] = out.used;
      if (pendBuf === r.buf && pendEnd === r.curStart) pendEnd = r.curEnd;
      else {
        flushCopy();
        pendBuf = r.buf;
        pendStart = r.curStart;
        pendEnd = r.curEnd;
        pendAt = out.used;
      }
      out.used += l;
      out.n++;
      // advance() may replace r.buf; the pending range keeps the old buffer alive until copied.
      if (await r.advance()) down(0);
      else {
        const last = heap.pop()!;
        if (heap.length) {
          heap[0] = last;
          down(0);
        }
      }
    }
    flushCopy();
    if (out.n) yield finish(out);
  }

  async cleanup(): Promise<void> {
    this.ids = [];
    this.arena = Buffer.alloc(0);
    await rm(this.runDir, { recursive: true, force: true });
  }
}

interface OpenBatch {
  batch: RowBatch;
  n: number;
  used: number;
}

function newBatch(rows: number, bytes: number): OpenBatch {
  return { batch: { n: 0, t: new Float64Array(rows), id: new Array<string>(rows), data: Buffer.allocUnsafe(bytes), off: new Uint32Array(rows + 1) }, n: 0, used: 0 };
}

function finish(o: OpenBatch): RowBatch {
  const b = o.batch;
  b.n = o.n;
  b.off[o.n] = o.used;
  if (o.n < b.t.length) {
    b.t = b.t.subarray(0, o.n);
    b.id.length = o.n;
    b.off = b.off.subarray(0, o.n + 1);
  }
  b.data = b.data.subarray(0, o.used);
  return b;
}

/** Sequential reader of one run (rows file + lengths file): the current row is a range of `buf`. */
class RunReader {
  private fh: FileHandle | null = null;
  private pos = 0;
  private lengths: Uint32Array | null = null;
  private row = 0;
  buf: Buffer = Buffer.alloc(0);
  private at = 0;
  curStart = 0;
  curEnd = 0;
  curT = 0;
  curId = '';

  constructor(private readonly path: string) {}

  /** Moves to the next row; false at the end. */
  async advance(): Promise<boolean> {
    if (!this.lengths) {
      const { readFile } = await import('node:fs/promises');
      const raw = await readFile(`${this.path}.len`);
      this.lengths = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    }
    if (this.row >= this.lengths.length) return false;
    const l = this.lengths[this.row]!;
    while (this.at + l > this.buf.length) await this.fill(l);
    this.curStart = this.at;
    this.curEnd = this.at + l;
    this.at = this.curEnd;
    this.row++;
    this.curT = timestampOfRow(this.buf, this.curStart, this.curEnd);
    this.curId = idOfBytes(this.buf, this.curStart, this.curEnd);
    return true;
  }

  private async fill(need: number): Promise<void> {
    this.fh ??= await open(this.path, 'r');
    // Keep the unread tail and read at least 1 MiB after it. The previous buffer is not reused:
    // the merge may still copy the current row out of it.
    const rest = this.buf.subarray(this.at);
    const want = Math.max(1 << 20, need);
    const next = Buffer.allocUnsafe(rest.length + want);
    rest.copy(next, 0);
    const { bytesRead } = await this.fh.read(next, rest.length, want, this.pos);
    if (bytesRead === 0) throw new Error(`sort run ${this.path} is shorter than its lengths say`);
    this.pos += bytesRead;
    this.buf = next.subarray(0, rest.length + bytesRead);
    this.at = 0;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }
}
