// The feedback collector: appends outcome records to the embedded store, `.mlops/outcomes/`.
//
// Layout and concurrency: one file per UTC day, `<yyyy-mm-dd>.jsonl`, shared by every process.
// Each flush is ONE write(2) on a file opened with O_APPEND, so concurrent writers (threads,
// processes) never interleave inside a line: on Linux local file systems the kernel holds the
// inode lock for the whole write and moves the offset to the end atomically. (Network file
// systems do not honour O_APPEND; keep .mlops on a local disk.) A flush starts with a newline:
// if an earlier writer died mid-write, its torn fragment is terminated there and readers skip it
// as one bad line instead of gluing it to the next good record.
//
// Durability: a call resolves only after its bytes were written and fdatasync(2)ed (and, for a
// file it created, the directory fsynced), so an acknowledged record survives a crash of the
// process or the machine. Concurrent calls in one process share a flush (group commit): one
// write and one fdatasync for everything queued while the previous flush ran, which is what
// makes batched throughput high without giving up per-call durability. `durability: 'none'`
// skips the syncs (tests, throwaway demos).
//
// Validation happens before anything is written: an invalid record is rejected with reasons
// naming its fields; a batch with an invalid record writes nothing unless `onInvalid: 'skip'`.
// Oversize lines (over MAX_OUTCOME_LINE_BYTES) are rejected the same way.
import { writeSync } from 'node:fs';
import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MlopsError } from '../errors.js';
import { checkOutcome, MAX_OUTCOME_LINE_BYTES, type OutcomeInput, type OutcomeRecord } from './outcome.js';
import { outcomesDir } from './outcome-store.js';

/** Largest single write; a bigger batch is split at line boundaries into several writes. */
const MAX_WRITE_BYTES = 4 << 20;

export interface FeedbackCollectorOptions {
  /** Registry directory; the store is `<dir>/.mlops/outcomes/`. */
  dir: string;
  /** 'fsync' (default): durable when the call resolves. 'none': no fsync. */
  durability?: 'fsync' | 'none';
  /** Clock used to pick the day file (tests). */
  now?: () => Date;
}

export interface AppendResult {
  accepted: number;
  /** Records left out under onInvalid: 'skip', with their index in the batch and reasons. */
  rejected: Array<{ index: number; task_id?: string; reasons: string[] }>;
}

/**
 * What append accepts: typed records, or any object (HTTP bodies, untyped callers), since every
 * record is validated at run time anyway.
 */
export type OutcomeLike = OutcomeInput | OutcomeRecord | Record<string, unknown>;

export interface FeedbackCollector {
  /** Appends one record; resolves once it is durable. Throws OUTCOME_INVALID / OUTCOME_LINE_TOO_LONG. */
  appendOutcome(record: OutcomeLike): Promise<void>;
  /**
   * Appends a batch. Default: all or nothing (any invalid record -> OUTCOME_INVALID listing
   * every bad index, nothing written). With onInvalid 'skip' the valid ones are written.
   */
  appendOutcomes(records: ReadonlyArray<OutcomeLike>, opts?: { onInvalid?: 'throw' | 'skip' }): Promise<AppendResult>;
  /** Closes the open file; later appends reopen it. */
  close(): Promise<void>;
}

interface Pending {
  bufs: Buffer[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

class StoreWriter {
  private queue: Pending[] = [];
  private flushing = false;
  private fh: FileHandle | null = null;
  private day = '';

  constructor(
    private readonly root: string,
    private readonly durable: boolean,
    private readonly now: () => Date,
  ) {}

  /** Queues buffers of whole lines (each ending in LF) and resolves when they are on disk. */
  write(bufs: Buffer[]): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      this.queue.push({ bufs, resolve: resolvePromise, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.writeBatch(batch.flatMap((p) => p.bufs));
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
          // A failed write may leave the handle in an unknown state: reopen next time.
          await this.closeFile().catch(() => undefined);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeBatch(bufs: Buffer[]): Promise<void> {
    const fh = await this.file();
    // Pack into writes of at most MAX_WRITE_BYTES, each starting with the separating newline.
    let parts: Buffer[] = [NEWLINE];
    let size = 1;
    const writeParts = async () => {
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      // write(2) into the page cache takes microseconds: done inline, it saves a thread-pool
      // round trip per flush; only the fdatasync below waits on the disk off the main thread.
      const bytesWritten = writeSync(fh.fd, data, 0, data.length, null);
      if (bytesWritten !== data.length) {
        throw new MlopsError('INTERNAL', `short write to the outcome store (${bytesWritten} of ${data.length} bytes); disk full?`, {
          hint: 'Free disk space; the records of this call were not acknowledged and may be sent again (task_id dedupes).',
        });
      }
    };
    for (const b of bufs) {
      if (size + b.length > MAX_WRITE_BYTES && size > 1) {
        await writeParts();
        parts = [NEWLINE];
        size = 1;
      }
      parts.push(b);
      size += b.length;
    }
    await writeParts();
    if (this.durable) await fh.datasync();
  }

  private async file(): Promise<FileHandle> {
    const day = this.now().toISOString().slice(0, 10);
    if (this.fh && day === this.day) return this.fh;
    await this.closeFile();
    await mkdir(this.root, { recursive: true });
    const path = `${this.root}/${day}.jsonl`;
    let created = false;
    let fh: FileHandle;
    try {
      fh = await open(path, 'ax'); // O_APPEND | O_CREAT | O_EXCL: tells us we made it
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      fh = await open(path, 'a');
    }
    if (created && this.durable) {
      // The new directory entry must be durable too, or a crash could lose the whole file.
      const d = await open(this.root, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
    this.fh = fh;
    this.day = day;
    return fh;
  }

  async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    this.day = '';
    if (fh) await fh.close();
  }
}

const NEWLINE = Buffer.from('\n');

/** The JSON line (with LF) of a record, or the reasons it cannot be written. */
export function encodeOutcomeLine(raw: unknown): { ok: true; record: OutcomeRecord; line: string } | { ok: false; reasons: string[]; code: 'OUTCOME_INVALID' | 'OUTCOME_LINE_TOO_LONG' } {
  const c = checkOutcome(raw);
  if (!c.ok) return { ok: false, reasons: c.reasons, code: 'OUTCOME_INVALID' };
  // checkOutcome builds the record with its keys in canonical order (features sorted), so plain
  // JSON.stringify gives outcomeToJson's text without copying the object again.
  const line = JSON.stringify(c.record) + '\n';
  const bytes = Buffer.byteLength(line);
  if (bytes > MAX_OUTCOME_LINE_BYTES) {
    return { ok: false, code: 'OUTCOME_LINE_TOO_LONG', reasons: [`record is ${bytes} bytes as JSON, over the limit of ${MAX_OUTCOME_LINE_BYTES}`] };
  }
  return { ok: true, record: c.record, line };
}

/** Joins lines into buffers of at most about MAX_WRITE_BYTES, never splitting a line. */
function packLines(lines: string[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const n = lines[i]!.length * 3; // upper bound of UTF-8 bytes; exact size is not needed here
    if (bytes + n > MAX_WRITE_BYTES && i > from) {
      out.push(Buffer.from(lines.slice(from, i).join(''), 'utf8'));
      from = i;
      bytes = 0;
    }
    bytes += n;
  }
  out.push(Buffer.from(lines.slice(from).join(''), 'utf8'));
  return out;
}

const collectors = new Map<string, FeedbackCollector>();

/**
 * The collector of a registry directory. Calls with the same directory and options share one
 * collector (one open file, one group-commit queue).
 */
export function getFeedbackCollector(opts: FeedbackCollectorOptions): FeedbackCollector {
  const root = outcomesDir(resolve(opts.dir));
  const durability = opts.durability ?? 'fsync';
  const key = `${root}\0${durability}`;
  const cached = opts.now ? undefined : collectors.get(key);
  if (cached) return cached;
  const writer = new StoreWriter(root, durability === 'fsync', opts.now ?? (() => new Date()));

  const collector: FeedbackCollector = {
    async appendOutcome(record) {
      const e = encodeOutcomeLine(record);
      if (!e.ok) throw invalid(e.code, e.reasons, record);
      await writer.write([Buffer.from(e.line, 'utf8')]);
    },
    async appendOutcomes(records, o = {}) {
      if (!Array.isArray(records)) throw new MlopsError('OUTCOME_INVALID', 'a batch of outcomes must be an array');
      const lines: string[] = [];
      const rejected: AppendResult['rejected'] = [];
      let tooLong = false;
      records.forEach((raw, index) => {
        const e = encodeOutcomeLine(raw);
        if (e.ok) lines.push(e.line);
        else {
          if (e.code === 'OUTCOME_LINE_TOO_LONG') tooLong = true;
          const id = (raw as { task_id?: unknown } | null)?.task_id;
          rejected.push({ index, ...(typeof id === 'string' ? { task_id: id } : {}), reasons: e.reasons });
        }
      });
      if (rejected.length && (o.onInvalid ?? 'throw') === 'throw') {
        const shown = rejected.slice(0, 10).map((r) => `#${r.index}${r.task_id ? ` (${r.task_id})` : ''}: ${r.reasons.join('; ')}`);
        throw new MlopsError(
          tooLong && rejected.length === 1 ? 'OUTCOME_LINE_TOO_LONG' : 'OUTCOME_INVALID',
          `${rejected.length} of ${records.length} outcome records are invalid; nothing was written:\n  ${shown.join('\n  ')}${rejected.length > 10 ? `\n  ... and ${rejected.length - 10} more` : ''}`,
          { hint: 'Fix the listed records, or pass onInvalid: "skip" to write the valid ones.', data: { rejected } },
        );
      }
      if (lines.length) await writer.write(packLines(lines));
      return { accepted: lines.length, rejected };
    },
    close: () => writer.closeFile(),
  };
  if (!opts.now) collectors.set(key, collector);
  return collector;
}

function invalid(code: 'OUTCOME_INVALID' | 'OUTCOME_LINE_TOO_LONG', reasons: string[], raw: unknown): MlopsError {
  const id = (raw as { task_id?: unknown } | null)?.task_id;
  return new MlopsError(code, `invalid outcome record${typeof id === 'string' ? ` (task_id ${JSON.stringify(id).slice(0, 80)})` : ''}: ${reasons.join('; ')}`, {
    hint: code === 'OUTCOME_LINE_TOO_LONG'
      ? `A record may take at most ${MAX_OUTCOME_LINE_BYTES} bytes as JSON; shorten failure_reason, url or features.`
      : 'Send the fields of SPEC section 4: task_id, domain, action_attempted, result (success|failure|error), timestamp (RFC 3339 with zone).',
    data: { reasons },
  });
}
