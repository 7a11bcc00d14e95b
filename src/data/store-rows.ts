// The outcome store as canonical shard rows, for collect and status: each valid line becomes
// the CSV row it would have in a shard. Parsing, validating and encoding a line is most of the
// cost of a collect, so large stores are cut into byte ranges (at line boundaries) that worker
// threads turn into rows while the main thread classifies and sorts. Small stores, and builds
// where the worker script is not available (running from TypeScript sources), use the same code
// on the main thread. Results are consumed in range order, so warnings and counts are identical
// either way.
import { availableParallelism } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readLines } from './line-reader.js';
import { emptyStats, listStoreFiles, outcomesDir, parseStoreLine, OUTCOMES_DIR, type StoreStats, type StoreWarning } from './outcome-store.js';
import { MAX_OUTCOME_LINE_BYTES } from './outcome.js';
import { outcomeToRow } from './shard.js';

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

export interface RangeResult {
  seq: number;
  /**
   * Canonical rows, each ending in LF. From a worker they come joined with NUL (rows never
   * contain NUL): one string crosses threads far faster than an array of strings.
   */
  rows: string[] | string;
  count: number;
  skipped: StoreStats['skipped'];
  warnings: StoreWarning[];
}

/** Warnings kept per range; the counts stay exact beyond it. */
const MAX_WARNINGS_PER_RANGE = 1000;
const RANGE_BYTES = 8 << 20;

/** Parses one range into rows (runs in a worker or on the main thread). */
export async function parseRange(job: RangeJob, joined = false): Promise<RangeResult> {
  const skipped = emptyStats().skipped;
  const warnings: StoreWarning[] = [];
  const rows: string[] = [];
  const state = { tailBytes: 0, size: 0 };
  for await (const batch of readLines(job.path, { start: job.start, end: job.end, maxLineBytes: MAX_OUTCOME_LINE_BYTES, state })) {
    for (const line of batch) {
      const p = parseStoreLine(job.file, line);
      if (p === null) continue;
      if ('warning' in p) {
        skipped[p.kind]++;
        if (warnings.length < MAX_WARNINGS_PER_RANGE) warnings.push(p.warning);
        continue;
      }
      rows.push(outcomeToRow(p.record));
    }
  }
  if (job.last && state.tailBytes > 0) {
    // Bytes after the last LF: a crashed writer's torn line, or a write still in flight.
    skipped.truncated++;
    warnings.push({
      code: 'OUTCOME_LINE_TRUNCATED',
      file: job.file,
      path: `${OUTCOMES_DIR}/${job.file}`,
      offset: job.end - state.tailBytes,
      message: `last ${state.tailBytes} bytes have no line ending (torn or still being written); not read`,
    });
  }
  return { seq: job.seq, rows: joined ? rows.join('\0') : rows, count: rows.length, skipped, warnings };
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
  /** Receives rows in store order, batch by batch; may be async (backpressure). */
  onRows: (rows: string[]) => void | Promise<void>;
  /** Worker threads: default min(4, cores - 1) for stores over 16 MiB on 4+ cores, else 0. */
  workers?: number;
  /** Bytes per range (tests use small ranges to exercise the cuts). */
  rangeBytes?: number;
}

/**
 * Streams the store as canonical rows. Returns the store stats (records = valid rows).
 * Memory: at most 2 ranges per worker in flight (about 16 MiB of text each).
 */
export async function scanStoreRows(opts: ScanRowsOptions): Promise<StoreStats> {
  const { jobs, files, bytes } = await planRanges(opts.dir, opts.rangeBytes ?? RANGE_BYTES);
  const stats = emptyStats();
  stats.files = files;
  stats.bytes = bytes;
  const deliver = async (r: RangeResult) => {
    stats.records += r.count;
    for (const k of Object.keys(r.skipped) as Array<keyof StoreStats['skipped']>) stats.skipped[k] += r.skipped[k];
    if (opts.onWarning) for (const w of r.warnings) opts.onWarning(w);
    if (r.count) await opts.onRows(typeof r.rows === 'string' ? r.rows.split('\0') : r.rows);
  };
  // Workers pay for themselves only with two or more of them beside the main thread: handing rows
  // across threads costs about a fifth of the parsing it saves, so on a 2-core machine the main
  // thread alone is as fast (measured with scripts/bench/data-collect.mjs).
  const cores = availableParallelism();
  const wanted = opts.workers ?? (bytes > 16 << 20 && cores >= 4 ? Math.min(4, cores - 1) : 0);
  if (wanted === 0 || jobs.length < 2 || !workersAvailable()) {
    for (const job of jobs) await deliver(await parseRange(job));
    return stats;
  }

  // A larger young generation: a worker allocates a few short-lived objects per line, and the
  // default semi-space makes it collect every few thousand lines.
  const pool = Array.from({ length: Math.min(wanted, jobs.length) }, () => new Worker(workerUrl, { resourceLimits: { maxYoungGenerationSizeMb: 64 } }));
  try {
    const results = new Map<number, RangeResult>();
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
      w.on('message', (r: RangeResult) => {
        results.set(r.seq, r);
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
