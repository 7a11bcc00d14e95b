import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTextField, decodeTextField, splitRecord, CsvRecordSplitter } from '../../src/data/csv.js';
import { normalizeOutcome, type OutcomeRecord } from '../../src/data/outcome.js';
import { canonicalCsv, compareText, outcomeToRow, rowKey, rowToOutcome, SHARD_HEADER, shardPath } from '../../src/data/shard.js';

/** Arbitrary valid outcome records, with the awkward characters CSV and JSON care about. */
const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', "'", '=', '+', '-', '@', ' ', 'é', '😀', '\uffff', '|'), minLength: 1, maxLength: 12 });
export const arbRecord: fc.Arbitrary<OutcomeRecord> = fc
  .record({
    task_id: text,
    domain: fc.constantFrom('example.org', '=evil.com', 'a-b.co.uk', "'quoted.net"),
    url: fc.option(fc.oneof(text, fc.constant('')), { nil: null }),
    action_attempted: text,
    result: fc.constantFrom('success', 'failure', 'error'),
    failure_reason: fc.option(fc.oneof(text, fc.constant('line1\nline2'), fc.constant('=cmd|" /C calc"!A0'), fc.constant('')), { nil: null }),
    execution_time: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: null }),
    model: fc.option(fc.constant('backlink-success'), { nil: null }),
    model_version: fc.option(fc.constant('v1.0.0'), { nil: null }),
    response_time_ms: fc.option(fc.double({ min: 0, max: 1e4, noNaN: true }), { nil: null }),
    timestamp: fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }).map((ms) => new Date(ms).toISOString()),
    features: fc.dictionary(fc.constantFrom('domain_authority', 'b', 'z_last', 'dofollow'), fc.oneof(fc.integer(), fc.boolean(), text, fc.constant(null)), { maxKeys: 3 }),
  })
  .map((r) => normalizeOutcome(r));

describe('CSV fields', () => {
  it.each([
    [null, ''],
    ['', '""'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['=cmd|\' /C calc\'!A0', "'=cmd|' /C calc'!A0"],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ["'already", "''already"],
    ['\tTab', "'\tTab"],
    ['line\nbreak', '"line\nbreak"'],
  ])('encodes %j as %s and decodes it back', (value, encoded) => {
    expect(encodeTextField(value)).toBe(encoded);
    const f = splitRecord(encoded)!;
    expect(f).toHaveLength(1);
    expect(decodeTextField(f[0]!)).toBe(value);
  });

  it('never lets a spreadsheet see a formula: no encoded field starts with = + - @ or TAB', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const e = encodeTextField(s);
        const visible = e.startsWith('"') ? e.slice(1) : e;
        expect(/^[=+\-@\t\r]/.test(visible)).toBe(false);
      }),
    );
  });

  it('splits records on LF outside quotes only, across any chunking', () => {
    const data = Buffer.from('a,"x\ny",c\nd,"""q""",f\n"no end');
    for (let cut = 1; cut < data.length; cut++) {
      const rows: string[] = [];
      const s = new CsvRecordSplitter((b, st, e) => rows.push(b.toString('utf8', st, e)));
      s.push(data.subarray(0, cut));
      s.push(data.subarray(cut));
      expect(rows).toEqual(['a,"x\ny",c', 'd,"""q""",f']);
      expect(s.end()?.toString()).toBe('"no end');
    }
  });
});

describe('canonical shards', () => {
  it('round-trips every record through its row', () => {
    fc.assert(
      fc.property(arbRecord, (r) => {
        const row = outcomeToRow(r);
        expect(row.endsWith('\n')).toBe(true);
        expect(rowToOutcome(row)).toEqual(r);
        expect(rowKey(row)).toBe(r.timestamp + r.task_id);
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same bytes and hash for the same records in any order', () => {
    fc.assert(
      fc.property(fc.array(arbRecord, { maxLength: 30 }).chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }))), ([a, b]) => {
        const ha = createHash('sha256').update(canonicalCsv(a)).digest('hex');
        const hb = createHash('sha256').update(canonicalCsv(b)).digest('hex');
        expect(ha).toBe(hb);
      }),
      { numRuns: 200 },
    );
  });

  it('sorts by timestamp, then task_id in code point order', () => {
    const mk = (task_id: string, ts: string) => normalizeOutcome({ task_id, domain: 'a.org', action_attempted: 'x', result: 'success', timestamp: ts });
    const csv = canonicalCsv([mk('b', '2026-01-01T00:00:01Z'), mk('\u{1F600}', '2026-01-01T00:00:00Z'), mk('\uffff', '2026-01-01T00:00:00Z'), mk('a', '2026-01-01T00:00:00Z')]);
    const ids = csv.split('\n').slice(1, -1).map((l) => rowKey(l).slice(24));
    // U+FFFF sorts before U+1F600 by code point, although its UTF-16 unit is larger.
    expect(ids).toEqual(['a', '\uffff', '\u{1F600}', 'b']);
    expect(csv.startsWith(SHARD_HEADER)).toBe(true);
  });

  it('compareText agrees with byte order of UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareText(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
  });

  it('names shards by date and hash prefix', () => {
    expect(shardPath('backlink-outcomes', '2026-11-22T02:00:04Z', '3f2a9c1b' + '0'.repeat(56))).toBe('datasets/backlink-outcomes/2026-11-22-3f2a9c1b.csv');
  });

  it('reports a broken row as SHARD_MODIFIED', () => {
    expect(() => rowToOutcome('2026-01-01T00:00:00.000Z,"unterminated')).toThrow(expect.objectContaining({ code: 'SHARD_MODIFIED' }));
    expect(() => rowToOutcome('2026-01-01T00:00:00.000Z,t,a.org,,x,maybe,,,,,,{}')).toThrow(expect.objectContaining({ code: 'SHARD_MODIFIED' }));
  });
});
