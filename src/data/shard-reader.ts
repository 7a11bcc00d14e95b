// Streams the rows of a sealed shard, checking its header and hashing its bytes on the way, so a
// shard is verified by the same read that uses it. Rows are handed out in batches as canonical
// row strings (each ending in LF).
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { CsvRecordSplitter } from './csv.js';
import type { LockShard } from './lock.js';
import { SHARD_HEADER } from './shard.js';

const READ_SIZE = 1 << 20;

/**
 * Pull-based reader of one shard's rows. `next()` resolves to the next batch, or null at the end,
 * where the bytes, row count and SHA-256 are checked against the lock entry (when given).
 */
export class ShardRowReader {
  private fh: FileHandle | null = null;
  private pos = 0;
  private readonly hash = createHash('sha256');
  private rows: string[] = [];
  private sawHeader = false;
  private finished = false;
  private readonly splitter: CsvRecordSplitter;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  rowCount = 0;
  bytes = 0;
  sha256 = '';

  constructor(
    readonly absPath: string,
    /** Path as written in the lock (for messages). */
    readonly path: string,
    private readonly expected?: LockShard,
  ) {
    this.splitter = new CsvRecordSplitter((b, s, e) => {
      const row = b.toString('utf8', s, e + 1);
      if (!this.sawHeader) {
        this.sawHeader = true;
        if (row !== SHARD_HEADER) throw this.modified('its header is not the canonical shard header');
        return;
      }
      this.rows.push(row);
    });
  }

  static forEntry(dir: string, entry: LockShard): ShardRowReader {
    return new ShardRowReader(join(dir, entry.path), entry.path, entry);
  }

  /** The next batch of rows, or null after the last one (then the shard is verified). */
  async next(): Promise<string[] | null> {
    if (this.finished) return null;
    if (!this.fh) {
      try {
        this.fh = await open(this.absPath, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw shardMissing(this.path);
        throw e;
      }
    }
    for (;;) {
      const { bytesRead } = await this.fh.read(this.buf, 0, READ_SIZE, this.pos);
      if (bytesRead === 0) {
        await this.finish();
        const rest = this.rows;
        this.rows = [];
        return rest.length ? rest : null;
      }
      const chunk = this.buf.subarray(0, bytesRead);
      this.hash.update(chunk);
      this.pos += bytesRead;
      this.splitter.push(chunk);
      if (this.rows.length >= 2048) {
        const out = this.rows;
        this.rows = [];
        this.rowCount += out.length;
        return out;
      }
    }
  }

  private async finish(): Promise<void> {
    this.finished = true;
    this.rowCount += this.rows.length;
    await this.fh?.close();
    this.fh = null;
    this.bytes = this.pos;
    this.sha256 = this.hash.digest('hex');
    if (this.splitter.end() !== null) throw this.modified('its last row has no line ending');
    if (!this.sawHeader) throw this.modified('it is empty');
    const x = this.expected;
    if (x && (x.sha256 !== this.sha256 || x.bytes !== this.bytes || x.rows !== this.rowCount)) {
      throw this.modified(entryMismatch({ sha256: this.sha256, bytes: this.bytes, rows: this.rowCount }, x));
    }
  }

  async close(): Promise<void> {
    this.finished = true;
    await this.fh?.close();
    this.fh = null;
  }

  private modified(why: string): MlopsError {
    return shardModified(this.path, why, this.sha256);
  }
}

/** SHARD_MISSING: a locked shard's file is gone. */
export function shardMissing(path: string): MlopsError {
  return new MlopsError('SHARD_MISSING', `${path} is locked in datasets.lock but the file is missing`, {
    hint: 'Restore it from git (`git checkout -- <path>`), or fetch the commit that added it.',
    data: { path },
  });
}

/** SHARD_MODIFIED: a locked shard's bytes are not what datasets.lock says (`sha256` when known). */
export function shardModified(path: string, why: string, sha256: string): MlopsError {
  return new MlopsError('SHARD_MODIFIED', `${path} does not match datasets.lock: ${why}`, {
    hint: 'Sealed shards are immutable; restore the file from git (`git checkout -- <path>`). Run `mlops data verify` to list every bad shard.',
    data: { path, sha256: sha256 || undefined },
  });
}

/** The message part of the lock-entry mismatch, as ShardRowReader words it. */
export function entryMismatch(actual: { sha256: string; bytes: number; rows: number }, x: LockShard): string {
  return `sha256 ${actual.sha256.slice(0, 12)}…, ${actual.bytes} bytes, ${actual.rows} rows; the lock says ${x.sha256.slice(0, 12)}…, ${x.bytes} bytes, ${x.rows} rows`;
}
