// What a dataset has sealed already, for collect: per task_id its latest timestamp and a 32-bit
// hash of its row, in a digest table (digest-table.ts), built from the locked shards.
//
// Reading the shards is also their verification (SHA-256, bytes, rows, header against
// datasets.lock, with ShardRowReader's errors). It works on bytes: one pass per row finds the
// row's end (an LF outside quotes) and hashes it, with no string per row but the task_id;
// building an index of a million rows this way costs a fraction of decoding them.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { DigestTable, hash32, hash32Bytes } from './digest-table.js';
import type { LockShard } from './lock.js';
import { idOfBytes, timestampOfRow } from './row-sorter.js';
import { entryMismatch, shardMissing, shardModified } from './shard-reader.js';
import { rowTaskId, SHARD_HEADER, timestampMs } from './shard.js';

const MULTI = 2;

/**
 * Per task_id (64-bit digest) its latest timestamp and a 32-bit hash of its row. A task sealed
 * more than once (dedupe updates, rare) keeps the hashes of all its rows in a small side map.
 * Exact copies are recognised by (task_id, row hash): a false match needs two versions of the
 * same task_id with equal 32-bit hashes.
 */
export class SealedIndex {
  readonly tasks: DigestTable;
  private readonly versions = new Map<string, Set<number>>();

  constructor(expected: number) {
    this.tasks = new DigestTable(expected);
  }

  get size(): number {
    return this.tasks.size;
  }

  add(row: string): void {
    this.addKey(rowTaskId(row), timestampMs(row), hash32(row));
  }

  /** Adds a row by its task_id, timestamp and hash32. */
  addKey(id: string, t: number, h: number): void {
    const tasks = this.tasks;
    const slot = tasks.insert(id);
    if (tasks.inserted) {
      tasks.setValueAt(slot, t);
      tasks.setAuxAt(slot, h);
      return;
    }
    if (tasks.valueAt(slot) < t) tasks.setValueAt(slot, t);
    if (tasks.flagsAt(slot) & MULTI) this.versions.get(id)!.add(h);
    else {
      this.versions.set(id, new Set([tasks.auxAt(slot), h]));
      tasks.setFlagsAt(slot, tasks.flagsAt(slot) | MULTI);
    }
  }

  /** Whether the row with hash32 `h` of the task at `slot` is sealed. */
  hasHashAt(slot: number, id: string, h: number): boolean {
    return this.tasks.flagsAt(slot) & MULTI ? this.versions.get(id)!.has(h) : this.tasks.auxAt(slot) === h;
  }
}

const READ_SIZE = 4 << 20;
const HEADER = Buffer.from(SHARD_HEADER);

/**
 * Adds the rows of one locked shard to the index, verifying the shard as ShardRowReader does
 * (same checks, same order, same errors).
 */
export async function indexShard(dir: string, entry: LockShard, index: SealedIndex): Promise<void> {
  let fh;
  try {
    fh = await open(join(dir, entry.path), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw shardMissing(entry.path);
    throw e;
  }
  const hash = createHash('sha256');
  let pos = 0;
  let rows = 0;
  let sawHeader = false;
  // buf holds the unfinished row of the previous read (at 0..carry) followed by the new bytes.
  let buf = Buffer.allocUnsafe(READ_SIZE * 2);
  let carry = 0;
  try {
    for (;;) {
      if (buf.length - carry < READ_SIZE) {
        const next = Buffer.allocUnsafe(carry + READ_SIZE);
        buf.copy(next, 0, 0, carry);
        buf = next;
      }
      const { bytesRead } = await fh.read(buf, carry, READ_SIZE, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(carry, carry + bytesRead));
      pos += bytesRead;
      const n = carry + bytesRead;
      let s = 0;
      // Rows: an LF outside quotes ends one (a doubled quote toggles twice, as it should). The
      // row is hashed in the same pass; a row with non-ASCII bytes is hashed again as text.
      for (;;) {
        let h = 0x811c9dc5;
        let inside = false;
        let high = 0;
        let i = s;
        for (; i < n; i++) {
          const b = buf[i]!;
          h = Math.imul(h ^ b, 0x01000193);
          high |= b;
          if (b === 34) inside = !inside;
          else if (b === 10 && !inside) break;
        }
        if (i >= n) break;
        const e = i + 1;
        if (!sawHeader) {
          sawHeader = true;
          if (e - s !== HEADER.length || buf.compare(HEADER, 0, HEADER.length, s, e) !== 0) throw shardModified(entry.path, 'its header is not the canonical shard header', '');
        } else {
          index.addKey(idOfBytes(buf, s, e), timestampOfRow(buf, s, e), high & 0x80 ? hash32Bytes(buf, s, e) : h >>> 0);
          rows++;
        }
        s = e;
      }
      buf.copy(buf, 0, s, n);
      carry = n - s;
    }
  } finally {
    await fh.close();
  }
  const sha256 = hash.digest('hex');
  if (carry > 0) throw shardModified(entry.path, 'its last row has no line ending', sha256);
  if (!sawHeader) throw shardModified(entry.path, 'it is empty', sha256);
  if (entry.sha256 !== sha256 || entry.bytes !== pos || entry.rows !== rows) {
    throw shardModified(entry.path, entryMismatch({ sha256, bytes: pos, rows }, entry), sha256);
  }
}

/** Indexes a dataset's sealed rows, verifying every shard on the way. */
export async function indexSealed(dir: string, shards: LockShard[]): Promise<SealedIndex> {
  const index = new SealedIndex(shards.reduce((n, s) => n + s.rows, 0));
  for (const s of shards) await indexShard(dir, s, index);
  return index;
}
