// The outcome store as canonical shard rows, for collect and status: each valid line becomes
// the CSV row it would have in a shard, as bytes. The store is cut into byte ranges (at line
// boundaries); a range is read with one read and turned into a chunk of rows (bytes back to
// back, with each row's timestamp and task_id). Most lines take the byte-level fast path of
// fast-row.ts; any other line goes through parseStoreLine + outcomeToRow, which also produce the
// warnings. Ranges may be parsed by worker threads (4+ cores); results are consumed in range
// order, so warnings and counts are identical either way.
import { availableParallelism } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { emptyStats, listStoreFiles, outcomesDir, parseStoreLine, OUTCOMES_DIR, type StoreStats, type StoreWarning } from './outcome-store.js';
import { MAX_OUTCOME_LINE_BYTES } from './outcome.js';
import { outcomeToRow, timestampMs } from './shard.js';
import * as fast from './fast-row.js';

/** One piece of work: a byte range of a store file that starts at a line start. */
export interface RangeJob {
  seq: number;
  path: string;
  file: string;
  start: number;
  end: number;
  /** The range ends at the file's size (a tail without LF is reported as truncated). */
  last: boolean;
}

/** The valid rows of one range: row i is data[off[i], off[i + 1]) and ends in LF. */
export interface RowChunk {
  seq: number;
  n: number;
  data: Buffer;
  off: Uint32Array;
  /** Timestamp of each row, ms since the epoch. */
  t: Float64Array;
  ids: string[];
  skipped: StoreStats['skipped'];
  warnings: StoreWarning[];
}

/** Warnings kept per range; the counts stay exact beyond it. */
const MAX_WARNINGS_PER_RANGE = 1000;
const RANGE_BYTES = 8 << 20;

/** Reads a range's bytes into buf (grown when too small); returns the bytes read. */
async function readRange(job: RangeJob, buf: Buffer): Promise<Buffer> {
  const want = job.end - job.start;
  const fh = await open(job.path, 'r');
  try {
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, job.start + got);
      if (bytesRead === 0) break; // truncated since the ranges were planned
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

/**
 * Turns the bytes of ranges into row chunks. With `reuse`, the chunk's arrays are reused by the
 * next parse (the main thread consumes a chunk before parsing the next); without, every chunk
 * owns its memory (a worker hands it over).
 */
export class RangeParser {
  private data: Buffer = Buffer.alloc(0);
  private off = new Uint32Array(0);
  private t = new Float64Array(0);
  private ids: string[] = [];

  constructor(private readonly reuse: boolean) {}

  private ensureRows(n: number): void {
    if (n < this.off.length) return;
    const cap = Math.max(1024, this.off.length * 2, n + 1);
    const off = new Uint32Array(cap);
    const t = new Float64Array(cap);
    off.set(this.off);
    t.set(this.t);
    this.off = off;
    this.t = t;
  }

  private ensureBytes(need: number, used: number): void {
    if (need <= this.data.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.data.length * 2, 1 << 16));
    this.data.copy(next, 0, 0, used);
    this.data = next;
  }

  /** Parses `src` (the bytes of `job`'s range) into rows. */
  parse(job: RangeJob, src: Buffer): RowChunk {
    if (!this.reuse || this.data.length === 0) {
      // Rows take about 60% of their JSON lines; grown on demand.
      this.data = Buffer.allocUnsafeSlow(Math.max(1 << 16, Math.ceil(src.length * 0.75)));
      this.off = new Uint32Array(Math.max(1024, Math.ceil(src.length / 200)));
      this.t = new Float64Array(this.off.length);
    }
    this.ids = [];
    const skipped = emptyStats().skipped;
    const warnings: StoreWarning[] = [];
    const ids = this.ids;
    let n = 0;
    let at = 0;
    let ls = 0;
    const len = src.length;
    // One UTF-8 check for all complete lines; line by line only when it fails (a bad line).
    const lastNl = src.lastIndexOf(10);
    const allUtf8 = lastNl >= 0 && isUtf8(src.subarray(0, lastNl + 1));
    while (ls < len) {
      const nl = lastNl >= ls ? src.indexOf(10, ls) : -1;
      if (nl < 0) break;
      const start = job.start + ls;
      let problem: 'too_long' | 'not_utf8' | undefined;
      if (nl - ls + 1 > MAX_OUTCOME_LINE_BYTES) problem = 'too_long';
      else if (!allUtf8 && !isUtf8(src.subarray(ls, nl))) problem = 'not_utf8';
      let e = nl;
      if (e > ls && src[e - 1] === 13) e--;
      if (problem === undefined && e === ls) {
        ls = nl + 1; // blank line: not a record, not an error
        continue;
      }
      if (problem === undefined) {
        this.ensureBytes(at + fast.maxRowBytes(e - ls), at);
        this.ensureRows(n + 1);
        const end = fast.encodeOutcomeRow(src, ls, e, this.data, at);
        if (end >= 0) {
          let t = fast.lastT;
          if (t !== t) t = timestampMs(this.data.toString('latin1', at, at + 24)); // years before 100
          this.off[n] = at;
          this.t[n] = t;
          ids[n] = src.toString(fast.lastIdAscii ? 'latin1' : 'utf8', fast.lastIdStart, fast.lastIdEnd);
          n++;
          at = end;
          ls = nl + 1;
          continue;
        }
      }
      // The full path: same parse, checks and warnings as reading the store record by record.
      const p = parseStoreLine(job.file, { start, next: job.start + nl + 1, text: problem ? null : src.toString('utf8', ls, e), problem });
      ls = nl + 1;
      if (p === null) continue;
      if ('warning' in p) {
        skipped[p.kind]++;
        if (warnings.length < MAX_WARNINGS_PER_RANGE) warnings.push(p.warning);
        continue;
      }
      const row = outcomeToRow(p.record);
      this.ensureBytes(at + row.length * 3, at);
      this.ensureRows(n + 1);
      this.off[n] = at;
      this.t[n] = timestampMs(row);
      ids[n] = p.record.task_id;
      n++;
      at += this.data.write(row, at, 'utf8');
    }
    const tail = len - ls;
    if (job.last && tail > 0) {
      // Bytes after the last LF: a crashed writer's torn line, or a write still in flight.
      skipped.truncated++;
      warnings.push({
        code: 'OUTCOME_LINE_TRUNCATED',
        file: job.file,
        path: `${OUTCOMES_DIR}/${job.file}`,
        offset: job.end - tail,
        message: `last ${tail} bytes have no line ending (torn or still being written); not read`,
      });
    }
    this.off[n] = at;
    return { seq: job.seq, n, data: this.data, off: this.off, t: this.t, ids, skipped, warnings };
  }
}

/** Reads and parses one range with its own memory (worker threads). */
export async function parseRange(job: RangeJob): Promise<RowChunk> {
  const src = await readRange(job, Buffer.allocUnsafeSlow(job.end - job.start));
  return new RangeParser(false).parse(job, src);
}

/** A chunk as a message: one string of task_ids (they never hold NUL), arrays transferred. */
export interface ChunkMessage extends Omit<RowChunk, 'ids' | 'data'> {
  ids: string;
  data: Uint8Array;
}

export function toMessage(c: RowChunk): { message: ChunkMessage; transfer: ArrayBuffer[] } {
  const data = new Uint8Array(c.off[c.n]!);
  data.set(c.data.subarray(0, data.length));
  const off = c.off.slice(0, c.n + 1);
  const t = c.t.slice(0, c.n);
  return {
    message: { seq: c.seq, n: c.n, data, off, t, ids: c.ids.slice(0, c.n).join('\0'), skipped: c.skipped, warnings: c.warnings },
    transfer: [data.buffer, off.buffer, t.buffer],
  };
}

function fromMessage(m: ChunkMessage): RowChunk {
  return { ...m, data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), ids: m.n ? m.ids.split('\0') : [] };
}

/** Cuts the store into ranges of about RANGE_BYTES, each starting at a line start. */
async function planRanges(dir: string, rangeBytes: number): Promise<{ jobs: RangeJob[]; files: number; bytes: number }> {
  const files = await listStoreFiles(dir);
  const jobs: RangeJob[] = [];
  let bytes = 0;
  for (const file of files) {
    const path = join(outcomesDir(dir), file);
    // The size now is the snapshot this collect reads; later appends wait for the next one.
    const size = (await stat(path)).size;
    bytes += size;
    let start = 0;
    const fh = await open(path, 'r');
    try {
      const probe = Buffer.allocUnsafe(MAX_OUTCOME_LINE_BYTES + 1);
      while (start < size) {
        let end = Math.min(size, start + rangeBytes);
        if (end < size) {
          // Move the cut to just after the next LF (a line is at most MAX_OUTCOME_LINE_BYTES;
          // beyond that the reader skips it anyway, so the cut may fall inside it).
          const { bytesRead } = await fh.read(probe, 0, probe.length, end);
          const nl = probe.subarray(0, bytesRead).indexOf(10);
          end = nl >= 0 ? end + nl + 1 : Math.min(size, end + bytesRead);
        }
        jobs.push({ seq: jobs.length, path, file, start, end, last: end === size });
        start = end;
      }
    } finally {
      await fh.close();
    }
  }
  return { jobs, files: files.length, bytes };
}

const workerUrl = new URL('./store-rows-worker.js', import.meta.url);

/** Whether worker threads can run the compiled worker script (not when running from .ts sources). */
function workersAvailable(): boolean {
  try {
    return workerUrl.protocol === 'file:' && existsSync(fileURLToPath(workerUrl));
  } catch {
    return false;
  }
}

export interface ScanRowsOptions {
  dir: string;
  onWarning?: (w: StoreWarning) => void;
  /**
   * Receives the rows in store order, chunk by chunk; may be async (backpressure). The chunk's
   * arrays are reused once the call returns.
   */
  onChunk: (chunk: RowChunk) => void | Promise<void>;
  /** Worker threads: default min(4, cores - 1) for stores over 16 MiB on 4+ cores, else 0. */
  workers?: number;
  /** Bytes per range (tests use small ranges to exercise the cuts). */
  rangeBytes?: number;
}

/**
 * Streams the store as canonical rows. Returns the store stats (records = valid rows).
 * Memory: two ranges of input and one of rows on the main thread; with workers, at most 2
 * ranges per worker in flight.
 */
export async function scanStoreRows(opts: ScanRowsOptions): Promise<StoreStats> {
  const { jobs, files, bytes } = await planRanges(opts.dir, opts.rangeBytes ?? RANGE_BYTES);
  const stats = emptyStats();
  stats.files = files;
  stats.bytes = bytes;
  const deliver = async (r: RowChunk) => {
    stats.records += r.n;
    for (const k of Object.keys(r.skipped) as Array<keyof StoreStats['skipped']>) stats.skipped[k] += r.skipped[k];
    if (opts.onWarning) for (const w of r.warnings) opts.onWarning(w);
    if (r.n) await opts.onChunk(r);
  };
  // Workers pay for themselves only with two or more of them beside the main thread: handing rows
  // across threads costs a good part of the parsing it saves, so on a 2-core machine the main
  // thread alone is faster (measured with bench/data-collect.mjs).
  const cores = availableParallelism();
  const wanted = opts.workers ?? (bytes > 16 << 20 && cores >= 4 ? Math.min(4, cores - 1) : 0);
  if (wanted === 0 || jobs.length < 2 || !workersAvailable()) {
    // Two input buffers: the next range is read (on the thread pool) while this one is parsed.
    const maxRange = jobs.reduce((m, j) => Math.max(m, j.end - j.start), 0);
    const bufs = jobs.length ? [Buffer.allocUnsafeSlow(maxRange), jobs.length > 1 ? Buffer.allocUnsafeSlow(maxRange) : Buffer.alloc(0)] : [];
    const parser = new RangeParser(true);
    let pending = jobs.length ? readRange(jobs[0]!, bufs[0]!) : null;
    try {
      for (let k = 0; k < jobs.length; k++) {
        const src = await pending!;
        pending = k + 1 < jobs.length ? readRange(jobs[k + 1]!, bufs[(k + 1) % 2]!) : null;
        await deliver(parser.parse(jobs[k]!, src));
      }
    } finally {
      // A failed delivery leaves the read ahead running: its outcome no longer matters.
      pending?.catch(() => undefined);
    }
    return stats;
  }

  // A larger young generation: a worker allocates a few short-lived strings per line, and the
  // default semi-space makes it collect every few thousand lines.
  const pool = Array.from({ length: Math.min(wanted, jobs.length) }, () => new Worker(workerUrl, { resourceLimits: { maxYoungGenerationSizeMb: 64 } }));
  try {
    const results = new Map<number, RowChunk>();
    let next = 0; // next job to hand out
    let expected = 0; // next seq to deliver
    let failure: unknown = null;
    let wake: (() => void) | null = null;
    const idle: Worker[] = [];
    const dispatch = () => {
      // Keep at most 2 ranges per worker ahead of delivery: bounded memory.
      while (idle.length && next < jobs.length && next - expected < pool.length * 2) idle.pop()!.postMessage(jobs[next++]);
    };
    for (const w of pool) {
      w.on('message', (m: ChunkMessage) => {
        results.set(m.seq, fromMessage(m));
        idle.push(w);
        dispatch();
        wake?.();
      });
      w.on('error', (e) => {
        failure = e;
        wake?.();
      });
      idle.push(w);
    }
    dispatch();
    while (expected < jobs.length) {
      if (failure) throw failure;
      const r = results.get(expected);
      if (!r) {
        await new Promise<void>((res) => (wake = res));
        wake = null;
        continue;
      }
      results.delete(expected);
      expected++;
      dispatch();
      await deliver(r);
    }
    return stats;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
