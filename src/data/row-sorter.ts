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
//
// In-order input (a store is appended in about time order): a chunk that is already sorted is
// not sorted again, and with a direct output, chunks that continue the order of the previous
// ones go straight to the output file. When all of them do, the output is complete when the
// last row is pushed: no run is read back, nothing is merged or written twice.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { compareText, rowTaskId, timestampMs } from './shard.js';
import { siftDown } from './sort-entry.js';

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

/** Sorted rows on disk: rows back to back from `offset` in `path`, their lengths in `lenPath`. */
interface Run {
  path: string;
  lenPath: string;
  offset: number;
}

/**
 * The final output file, for sorts whose input mostly arrives in order (a store appended in
 * time order): chunks that continue the order are written there directly instead of to run
 * files, and when every chunk did, the file is the sorted output and nothing is merged.
 */
export interface DirectOutput {
  path: string;
  fh: FileHandle;
  /** Offset of the first row (after a header). */
  start: number;
  /** Every block written, in file order (e.g. to hash the output as it is written). */
  onBytes: (bytes: Buffer) => void;
}

export interface RowSorterOptions {
  tmpDir: string;
  direct?: DirectOutput;
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
  private runDirMade = false;
  private used = 0;
  private n = 0;
  private t: Float64Array;
  private off: Uint32Array;
  private len: Uint32Array;
  private ids: string[] = [];
  private runs: Run[] = [];
  private readonly direct: DirectOutput | null;
  /** The direct file as a run (once it holds rows), and where its next rows go. */
  private directRun: Run | null = null;
  private directPos = 0;
  private readonly runDir: string;
  count = 0;

  constructor(opts: RowSorterOptions) {
    this.chunkRows = opts.chunkRows ?? 250_000;
    this.chunkBytes = opts.chunkBytes ?? 128 << 20;
    this.batchRows = opts.batchRows ?? 8192;
    this.arena = Buffer.allocUnsafe(Math.max(1 << 16, Math.min(this.chunkBytes, opts.expectedBytes ?? 4 << 20)));
    const cap = Math.min(this.chunkRows, 16_384);
    this.t = new Float64Array(cap);
    this.off = new Uint32Array(cap);
    this.len = new Uint32Array(cap);
    this.runDir = join(opts.tmpDir, `sort-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.direct = opts.direct ?? null;
    this.directPos = this.direct?.start ?? 0;
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

  /**
   * Makes room for `rows` more rows of `bytes` bytes: spills first when they would not fit in
   * the chunk (so the arena keeps its size). Call before pushRows.
   */
  async reserve(rows: number, bytes: number): Promise<void> {
    if (this.n > 0 && (this.n + rows > this.chunkRows || this.used + bytes > Math.max(this.chunkBytes, this.arena.length))) await this.spill();
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

  /** Canonical order of the chunk's rows a and b. */
  private compare(a: number, b: number): number {
    const { t, ids, off, len, arena } = this;
    if (t[a] !== t[b]) return t[a]! - t[b]!;
    const x = ids[a]!;
    const y = ids[b]!;
    if (x !== y) return compareIds(x, y);
    // Same task and time: byte order of the rows (UTF-8 byte order is code point order).
    return arena.compare(arena, off[b]!, off[b]! + len[b]!, off[a]!, off[a]! + len[a]!);
  }

  /** Indices of the chunk's rows in canonical order. */
  private order(): Uint32Array {
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    // A store appended in time order often gives a chunk that is in order already: one linear
    // check instead of a sort with a comparator call per pair.
    let sorted = true;
    for (let i = 1; i < this.n && sorted; i++) if (this.compare(i - 1, i) > 0) sorted = false;
    if (!sorted) idx.sort((a, b) => this.compare(a, b));
    return idx;
  }

  /**
   * Whether every spilled run starts at or after the end of the previous one: then the runs,
   * read one after the other, are already in canonical order and need no merge.
   */
  private runsInOrder = true;
  private lastOfRuns: { t: number; id: string; row: Buffer } | null = null;

  private noteRun(idx: Uint32Array): void {
    const first = idx[0]!;
    const prev = this.lastOfRuns;
    if (prev && this.runsInOrder) {
      const t = this.t[first]!;
      const id = this.ids[first]!;
      const c = prev.t !== t ? prev.t - t : prev.id !== id ? compareIds(prev.id, id) : prev.row.compare(this.arena, this.off[first]!, this.off[first]! + this.len[first]!);
      if (c > 0) this.runsInOrder = false;
    }
    const last = idx[idx.length - 1]!;
    this.lastOfRuns = { t: this.t[last]!, id: this.ids[last]!, row: Buffer.from(this.arena.subarray(this.off[last]!, this.off[last]! + this.len[last]!)) };
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
    this.noteRun(idx);
    if (!this.runDirMade) {
      await mkdir(this.runDir, { recursive: true });
      this.runDirMade = true;
    }
    // Rows go to the run as contiguous bytes, their lengths to its .len file (rows may hold LF).
    const lengths = new Uint32Array(this.n);
    for (let k = 0; k < this.n; k++) lengths[k] = this.len[idx[k]!]!;
    const blocks: Buffer[][] = [];
    let pending: Buffer[] = [];
    let size = 0;
    this.forRanges(idx, 0, this.n, (a, b) => {
      pending.push(this.arena.subarray(a, b));
      size += b - a;
      if (size >= 4 << 20) {
        blocks.push(pending);
        pending = [];
        size = 0;
      }
    });
    if (pending.length) blocks.push(pending);
    const lenBytes = new Uint8Array(lengths.buffer, lengths.byteOffset, lengths.byteLength);
    if (this.direct && this.runsInOrder) {
      // Still in order: straight into the output, after the rows already there. The write runs
      // on the thread pool while the same bytes are hashed here.
      const d = this.direct;
      if (!this.directRun) {
        this.directRun = { path: d.path, lenPath: join(this.runDir, 'direct.len'), offset: d.start };
        this.runs.push(this.directRun);
      }
      const at = this.directPos;
      for (const bufs of blocks) for (const b of bufs) this.directPos += b.length;
      const write = writeRun(d.fh, blocks, at, this.directRun.lenPath, lenBytes, 'a');
      write.catch(() => undefined); // awaited below, after hashing
      for (const bufs of blocks) for (const b of bufs) d.onBytes(b);
      await write;
    } else {
      const run = { path: join(this.runDir, `run-${this.runs.length}`), lenPath: '', offset: 0 };
      run.lenPath = `${run.path}.len`;
      const fh = await open(run.path, 'w');
      try {
        await writeRun(fh, blocks, 0, run.lenPath, lenBytes, 'w');
      } finally {
        await fh.close();
      }
      this.runs.push(run);
    }
    this.n = 0;
    this.used = 0;
    this.ids = [];
  }

  /**
   * With a direct output: writes the rows still in memory, and tells whether every row is now
   * in the output file in canonical order (then sorted() is not needed). When false, the output
   * file's rows are one of the runs that sorted() merges, into another file.
   */
  async finishDirect(): Promise<boolean> {
    if (!this.direct) return false;
    await this.spill();
    return this.runsInOrder;
  }

  /** Spills what is left and frees the arena. */
  private async flushRuns(): Promise<void> {
    await this.spill();
    this.arena = Buffer.alloc(0);
  }

  /**
   * The bytes of all rows in canonical order, in blocks of whole rows (no per-row timestamps or
   * task_ids: for callers that write every row as it is). Call once, after the last push,
   * instead of sorted(). Runs already in order are streamed from disk without a merge.
   */
  async *sortedBytes(): AsyncGenerator<{ n: number; data: Buffer }> {
    if (this.runs.length === 0) {
      const idx = this.order();
      for (let s = 0; s < idx.length; s += this.batchRows) {
        const e = Math.min(idx.length, s + this.batchRows);
        const parts: Buffer[] = [];
        this.forRanges(idx, s, e, (a, b) => parts.push(this.arena.subarray(a, b)));
        // Views of the arena: it stays as it is until cleanup().
        yield { n: e - s, data: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
      }
      this.n = 0;
      this.ids = [];
      return;
    }
    await this.flushRuns();
    if (!this.runsInOrder) {
      for await (const b of this.sorted()) yield { n: b.n, data: b.data };
      return;
    }
    for (const run of this.runs) yield* readRunBlocks(run);
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
    await this.flushRuns();
    const readers = this.runs.map((r) => new RunReader(r));
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
    const down = (i: number) => siftDown(heap, i, less);
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

/** A run's rows as blocks of whole rows of about 4 MiB, the next block read while one is used. */
async function* readRunBlocks(run: Run): AsyncGenerator<{ n: number; data: Buffer }> {
  const { path } = run;
  const { readFile } = await import('node:fs/promises');
  const raw = await readFile(run.lenPath);
  const lengths = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const fh = await open(path, 'r');
  try {
    let row = 0;
    let pos = run.offset;
    const next = (): { n: number; read: Promise<Buffer> } | null => {
      if (row >= lengths.length) return null;
      let bytes = 0;
      const from = row;
      while (row < lengths.length && (bytes < 4 << 20 || row === from)) bytes += lengths[row++]!;
      const at = pos;
      pos += bytes;
      return { n: row - from, read: readExactly(fh, Buffer.allocUnsafeSlow(bytes), at, path) };
    };
    let cur = next();
    while (cur) {
      const ahead = next();
      // A failed read ahead is reported when it is awaited, not as an unhandled rejection.
      ahead?.read.catch(() => undefined);
      yield { n: cur.n, data: await cur.read };
      cur = ahead;
    }
  } finally {
    await fh.close();
  }
}

async function readExactly(fh: FileHandle, buf: Buffer, position: number, path: string): Promise<Buffer> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) throw new Error(`sort run ${path} is shorter than its lengths say`);
    got += bytesRead;
  }
  return buf;
}

/** Writes a run's blocks from `position`, then appends (or writes) its lengths file. */
async function writeRun(fh: FileHandle, blocks: Buffer[][], position: number, lenPath: string, lenBytes: Uint8Array, lenFlags: 'a' | 'w'): Promise<void> {
  let at = position;
  for (const bufs of blocks) at += await writevAll(fh, bufs, at);
  const lf = await open(lenPath, lenFlags);
  try {
    await lf.write(lenBytes);
  } finally {
    await lf.close();
  }
}

/** Writes all of bufs at `position` (a write may be short); returns the bytes written. */
async function writevAll(fh: FileHandle, bufs: Buffer[], position: number): Promise<number> {
  let total = 0;
  for (const b of bufs) total += b.length;
  let done = 0;
  while (done < total) {
    let rest = bufs;
    if (done > 0) {
      // Skip what was written (rare: regular files take the whole write).
      let skip = done;
      rest = [];
      for (const b of bufs) {
        if (skip >= b.length) skip -= b.length;
        else {
          rest.push(skip ? b.subarray(skip) : b);
          skip = 0;
        }
      }
    }
    const { bytesWritten } = await fh.writev(rest, position + done);
    if (bytesWritten === 0) throw new Error('short write of sorted rows');
    done += bytesWritten;
  }
  return total;
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

  private readonly path: string;

  constructor(private readonly run: Run) {
    this.path = run.path;
    this.pos = run.offset;
  }

  /** Moves to the next row; false at the end. */
  async advance(): Promise<boolean> {
    if (!this.lengths) {
      const { readFile } = await import('node:fs/promises');
      const raw = await readFile(this.run.lenPath);
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
