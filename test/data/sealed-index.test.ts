// The byte-level shard indexer of collect (src/data/sealed-index.ts) against the row reader it
// replaces there (ShardRowReader + SealedIndex.add): same index, same verification errors.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash32 } from '../../src/data/digest-table.js';
import type { LockShard } from '../../src/data/lock.js';
import { normalizeOutcome } from '../../src/data/outcome.js';
import { indexShard, SealedIndex } from '../../src/data/sealed-index.js';
import { ShardRowReader } from '../../src/data/shard-reader.js';
import { canonicalCsv, rowTaskId, timestampMs } from '../../src/data/shard.js';
import { tempDir } from '../helpers/gitdir.js';
import { outcome } from './helpers/store.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function viaReader(dir: string, entry: LockShard): Promise<{ index: SealedIndex; rows: string[] }> {
  const index = new SealedIndex(entry.rows);
  const reader = ShardRowReader.forEntry(dir, entry);
  const rows: string[] = [];
  for (let b = await reader.next(); b; b = await reader.next()) {
    for (const r of b) {
      index.add(r);
      rows.push(r);
    }
  }
  return { index, rows };
}

function entryOf(path: string, bytes: Buffer, rows: number): LockShard {
  return { path, sha256: sha(bytes), bytes: bytes.length, rows, created_at: '2026-11-22T02:00:04Z' };
}

function write(dir: string, path: string, bytes: Buffer): void {
  mkdirSync(join(dir, 'datasets', 'd'), { recursive: true });
  writeFileSync(join(dir, path), bytes);
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return null;
  } catch (e) {
    const m = e as { code?: string; message?: string; data?: unknown };
    return { code: m.code, message: m.message, data: m.data };
  }
}

const record = fc
  .record({
    id: fc.oneof(fc.nat(40).map((n) => `t-${n}`), fc.constantFrom('"q,uote"', "'x", '=sum', 'é😀', 'a\u2028b', '\uffff')),
    minute: fc.nat(30),
    result: fc.constantFrom('success', 'failure', 'error'),
    reason: fc.option(fc.constantFrom('a\nb', 'x, "y"', '中文', '=1')),
  })
  .map((r) => normalizeOutcome(outcome(r.id, { result: r.result, failure_reason: r.reason, timestamp: new Date(Date.UTC(2026, 0, 1, 0, r.minute)).toISOString() })));

describe('sealed index from shard bytes', () => {
  it('equals the index built from the row reader (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 60 }), async (records) => {
        const dir = tempDir();
        const bytes = Buffer.from(canonicalCsv(records));
        const entry = entryOf('datasets/d/s.csv', bytes, records.length);
        write(dir, entry.path, bytes);
        const { index: want, rows } = await viaReader(dir, entry);
        const got = new SealedIndex(1);
        await indexShard(dir, entry, got);
        expect(got.size).toBe(want.size);
        for (const r of rows) {
          const id = rowTaskId(r);
          const a = got.tasks.find(id);
          const b = want.tasks.find(id);
          expect(a >= 0 && b >= 0).toBe(true);
          expect(got.tasks.valueAt(a)).toBe(want.tasks.valueAt(b));
          expect(got.tasks.valueAt(a)).toBeGreaterThanOrEqual(timestampMs(r));
          expect(got.hasHashAt(a, id, hash32(r))).toBe(true);
          expect(got.hasHashAt(a, id, hash32(r) ^ 1)).toBe(want.hasHashAt(b, id, hash32(r) ^ 1));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('fails with the reader error on every kind of damage', async () => {
    const records = Array.from({ length: 30 }, (_, i) => normalizeOutcome(outcome(i, { failure_reason: i % 3 ? null : 'x,\n"y"' })));
    const good = Buffer.from(canonicalCsv(records));
    const entry = entryOf('datasets/d/s.csv', good, records.length);
    const damaged: Array<[string, Buffer | null, LockShard]> = [
      ['intact', good, entry],
      ['missing', null, entry],
      ['empty', Buffer.alloc(0), entry],
      ['header', Buffer.concat([Buffer.from('x'), good]), entry],
      ['header only', Buffer.from(canonicalCsv([])), entry],
      ['no final LF', good.subarray(0, good.length - 1), entry],
      ['unclosed quote', Buffer.concat([good, Buffer.from('2026,"open\n')]), entry],
      ['extra row', Buffer.concat([good, Buffer.from('2026-11-20T00:00:00.000Z,evil,a.org,,x,success,,,,,,{}\n')]), entry],
      ['flipped byte', Buffer.from(good.toString('latin1').replace('t-00007', 't-00008'), 'latin1'), entry],
      ['not UTF-8', Buffer.concat([good.subarray(0, 300), Buffer.from([0xff, 0xc3]), good.subarray(302)]), entry],
      ['wrong rows in lock', good, { ...entry, rows: entry.rows + 1 }],
      ['wrong bytes in lock', good, { ...entry, bytes: entry.bytes - 1 }],
    ];
    for (const [what, bytes, e] of damaged) {
      const dir = tempDir();
      if (bytes) write(dir, e.path, bytes);
      else mkdirSync(join(dir, 'datasets', 'd'), { recursive: true });
      const want = await errorOf(viaReader(dir, e));
      const got = await errorOf(indexShard(dir, e, new SealedIndex(1)));
      expect(got, what).toEqual(want);
      if (what !== 'intact') expect(want, what).not.toBeNull();
    }
  });
});
