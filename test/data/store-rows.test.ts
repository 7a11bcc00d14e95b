// The byte-level store scanner used by collect and status (src/data/store-rows.ts) against the
// record-by-record reader (readOutcomeStore + outcomeToRow): same rows, timestamps, task_ids,
// warnings and counts, whatever mix of good and bad lines the store holds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash32, hash32Bytes } from '../../src/data/digest-table.js';
import { normalizeOutcome, outcomeToJson } from '../../src/data/outcome.js';
import { readOutcomeStore, type StoreWarning } from '../../src/data/outcome-store.js';
import { idOfBytes } from '../../src/data/row-sorter.js';
import { outcomeToRow, timestampMs } from '../../src/data/shard.js';
import { scanStoreRows } from '../../src/data/store-rows.js';
import { tempDir } from '../helpers/gitdir.js';
import { outcome } from './helpers/store.js';

async function viaScanner(dir: string, rangeBytes?: number) {
  const rows: string[] = [];
  const ts: number[] = [];
  const ids: string[] = [];
  const warnings: StoreWarning[] = [];
  const stats = await scanStoreRows({
    dir,
    rangeBytes,
    onWarning: (w) => warnings.push(w),
    onChunk: (c) => {
      for (let i = 0; i < c.n; i++) {
        rows.push(c.data.toString('utf8', c.off[i]!, c.off[i + 1]!));
        ts.push(c.t[i]!);
        ids.push(c.ids[i]!);
      }
    },
  });
  return { rows, ts, ids, warnings, stats: { records: stats.records, skipped: stats.skipped, files: stats.files, bytes: stats.bytes } };
}

async function viaRecords(dir: string) {
  const rows: string[] = [];
  const ts: number[] = [];
  const ids: string[] = [];
  const warnings: StoreWarning[] = [];
  const store = readOutcomeStore({ dir, onWarning: (w) => warnings.push(w) });
  for await (const r of store) {
    const row = outcomeToRow(r);
    rows.push(row);
    ts.push(timestampMs(row));
    ids.push(r.task_id);
  }
  const s = store.stats;
  return { rows, ts, ids, warnings, stats: { records: s.records, skipped: s.skipped, files: s.files, bytes: s.bytes } };
}

const good = (i: number) => outcomeToJson(normalizeOutcome(outcome(i, { url: `https://x.org/${i}`, features: { b: i, a: 'x,y' } })));

/** Lines of every kind a store may hold. */
const storeLine = fc.oneof(
  { weight: 10, arbitrary: fc.nat(500).map((i) => good(i)) },
  { weight: 2, arbitrary: fc.nat(500).map((i) => JSON.stringify(outcome(i, { result: i % 2 === 0, timestamp: '2026-11-20T10:00:00+01:00' }))) },
  { weight: 1, arbitrary: fc.nat(500).map((i) => good(i) + '\r') },
  { weight: 1, arbitrary: fc.nat(500).map((i) => JSON.stringify(outcome(i, { task_id: `é-${i}-😀`, domain: 'Bücher.DE' }))) },
  { weight: 1, arbitrary: fc.nat(500).map((i) => JSON.stringify(outcome(i, { failure_reason: 'a\nb "c"' }))) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', ' ', '\t', '\u00a0', '\r', '{"torn": tru', '{"task_id":"x"}', 'not json', '[]', 'null', JSON.stringify({ ...outcome(1), result: 'maybe' }), JSON.stringify({ ...outcome(2), extra: 1 })),
  },
);

function writeRaw(dir: string, file: string, chunks: Array<string | Buffer>): void {
  mkdirSync(join(dir, '.mlops', 'outcomes'), { recursive: true });
  writeFileSync(join(dir, '.mlops', 'outcomes', file), Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))));
}

describe('store scanner = record reader', () => {
  it('gives the same rows, keys, warnings and counts (property, small and default ranges)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(storeLine, { maxLength: 60 }), { minLength: 1, maxLength: 3 }), fc.constantFrom('', '{"tail', 'x'), async (files, tail) => {
        const dir = tempDir();
        files.forEach((lines, k) => writeRaw(dir, `f${k}.jsonl`, [lines.map((l) => l + '\n').join(''), k === files.length - 1 ? tail : '']));
        const want = await viaRecords(dir);
        expect(await viaScanner(dir)).toEqual(want);
        expect(await viaScanner(dir, 700)).toEqual(want);
      }),
      { numRuns: 40 },
    );
  });

  it('skips over-long and non-UTF-8 lines with the same warnings', async () => {
    const dir = tempDir();
    const long = JSON.stringify(outcome(7, { failure_reason: 'x'.repeat(70_000) }));
    writeRaw(dir, 'a.jsonl', [good(1) + '\n', Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), long + '\n', good(2) + '\n', Buffer.from('{"task_id":"\xe9"}\n', 'latin1'), good(3) + '\r\n']);
    const want = await viaRecords(dir);
    expect(want.stats.skipped).toMatchObject({ too_long: 1, not_utf8: 2 });
    expect(await viaScanner(dir)).toEqual(want);
  });
});

describe('byte-level helpers', () => {
  it('hash32Bytes equals hash32 of the decoded text, for any bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }).map((s) => Buffer.from(s, 'utf8')), fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))), (buf) => {
        expect(hash32Bytes(buf, 0, buf.length)).toBe(hash32(buf.toString('utf8')));
        if (buf.length > 2) expect(hash32Bytes(buf, 1, buf.length - 1)).toBe(hash32(buf.toString('utf8', 1, buf.length - 1)));
      }),
      { numRuns: 2000 },
    );
  });

  it('idOfBytes reads the task_id of any canonical row', () => {
    const id = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }), fc.constantFrom('"q,uote"', "'x", '=sum', '😀'.repeat(256), '"'.repeat(200), 'a,b'));
    fc.assert(
      fc.property(id, (task_id) => {
        let r;
        try {
          r = normalizeOutcome({ ...outcome(1), task_id });
        } catch {
          return; // not a valid task_id
        }
        const row = Buffer.from(outcomeToRow(r));
        expect(idOfBytes(row, 0, row.length)).toBe(task_id);
      }),
      { numRuns: 1000 },
    );
  });
});
