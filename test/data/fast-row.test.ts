// The byte-level fast path (src/data/fast-row.ts) against the full path it replaces:
// outcomeToRow(normalizeOutcome(JSON.parse(line))). Whatever line it is given, it must either
// write exactly that row or decline (-1); it must never accept a line the full path rejects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as fast from '../../src/data/fast-row.js';
import { normalizeOutcome, outcomeToJson } from '../../src/data/outcome.js';
import { outcomeToRow, timestampMs } from '../../src/data/shard.js';

/** The full path's row, or null when the line is not a valid record. */
function slowRow(line: string): string | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  try {
    return outcomeToRow(normalizeOutcome(raw));
  } catch {
    return null;
  }
}

/** Runs the fast path on a line; returns its row or null when it declined. */
function fastRow(line: string): { row: string; t: number; id: string } | null {
  // The line sits inside a larger buffer followed by its LF and another line, as in the store.
  const pre = Buffer.from('{"x":1}\n');
  const body = Buffer.from(line, 'utf8');
  const src = Buffer.concat([pre, body, Buffer.from('\n{"task_id":"next"}\n')]);
  const out = Buffer.alloc(fast.maxRowBytes(body.length) + 16, 0xee);
  const end = fast.encodeOutcomeRow(src, pre.length, pre.length + body.length, out, 8);
  if (end < 0) return null;
  expect(end - 8).toBeLessThanOrEqual(fast.maxRowBytes(body.length));
  const row = out.toString('utf8', 8, end);
  return { row, t: fast.lastT, id: src.toString('utf8', fast.lastIdStart, fast.lastIdEnd) };
}

function check(line: string): 'fast' | 'declined' {
  const want = slowRow(line);
  const got = fastRow(line);
  if (got === null) return 'declined';
  expect(want, `fast path accepted an invalid line: ${line}`).not.toBeNull();
  expect(got.row).toBe(want);
  const t = timestampMs(want!);
  if (Number.isNaN(got.t)) expect(Number(want!.slice(0, 4))).toBeLessThan(100);
  else expect(got.t).toBe(t);
  expect(got.id).toBe((JSON.parse(line) as { task_id: string }).task_id);
  return 'fast';
}

// ---- generators ----

const FORMULA = ['=', '+', '-', '@', "'", '\t', '\r'];
const cleanChar = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...'abcxyzABCXYZ0189_-.:/ '.split('')) },
  { weight: 1, arbitrary: fc.constant(',') },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', 'İ', 'ǅ', '\u2028', '\ufeff', '\u00a0', '\ud83d\ude00', '中', '\uffff', '\u0085') },
  { weight: 1, arbitrary: fc.constantFrom(...FORMULA.slice(0, 5)) },
);
const badChar = fc.constantFrom('"', '\\', '\n', '\t', '\r', '\u007f', '\u0000', '\u001f', '\ud800', '\udc00');
/** Mostly text the fast path takes; sometimes a character it must refuse or that needs an escape. */
const text = (max: number) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.array(cleanChar, { maxLength: max }).map((a) => a.join('')) },
    { weight: 1, arbitrary: fc.tuple(fc.array(cleanChar, { maxLength: max }), badChar, fc.nat()).map(([a, b, i]) => { a.splice(i % (a.length + 1), 0, b); return a.join(''); }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...FORMULA), fc.array(cleanChar, { maxLength: max })).map(([f, a]) => f + a.join('')) },
  );
/** Strings around a length limit (in code points), plain or with astral characters. */
const nearLimit = (limit: number) =>
  fc.tuple(fc.integer({ min: limit - 2, max: limit + 2 }), fc.constantFrom('a', '\u{1F600}', 'é')).map(([n, c]) => c.repeat(Math.max(0, n)));
const str = (max: number, limit: number) => fc.oneof({ weight: 6, arbitrary: text(max) }, { weight: 1, arbitrary: nearLimit(limit) });

const numberValue = fc.oneof(
  fc.constantFrom(0, -0, 1, 12.4, 2.62, 1e-6, 1e-7, 1.5e-7, 123456789012345, 1234567890123456, 0.1 + 0.2, 1e20, 1e21, 1e300, 5e-324, Number.MAX_VALUE, -1, -12.5, 0.000001234, 100),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1e6, max: 1e9 }),
);
/** Number texts as a client might send them (not only JavaScript's own form). */
const numberText = fc.oneof(
  { weight: 8, arbitrary: numberValue.map((n) => JSON.stringify(n)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('1.0', '1.50', '0.0', '-0', '-0.0', '1e2', '1E2', '1e+2', '1.5e-3', '0.1e1', '10e-1', '1e400', '-1e400', '00', '01', '1.', '.5', '-', '1e', '+1', '0.000001', '0.0000001', '1234567890.12345', '123456789012345678901234567890', '4.35', '9007199254740993'),
  },
);

const timestamp = fc.oneof(
  { weight: 8, arbitrary: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 2, arbitrary: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '2026-11-26T10:00:00Z', '2026-11-26T10:00:00.123Z', '2026-11-26t10:00:00z', '2026-11-26 10:00:00Z', '2026-11-26T10:00:00+02:00', '2026-11-26T10:00:00.1234567Z',
      '2026-02-29T00:00:00Z', '2024-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-04-31T00:00:00Z',
      '2026-11-26T24:00:00Z', '2026-11-26T23:60:00Z', '2026-11-26T23:59:60Z', '0000-01-01T00:00:00Z', '0050-06-01T12:00:00.500Z', '0099-12-31T23:59:59Z', '0100-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999Z', '2026-11-26T10:00:00.12Z', '2026-11-26T10:00Z', '２026-11-26T10:00:00Z', '2026-11-26T10:00:00.000', '',
    ),
  },
);

const featureKey = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('domain_authority', 'dofollow', 'outbound_links', 'page_age_days', 'a', 'b', 'Z', '_x', 'k.v', 'k-v', 'a1') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '1a', '', 'é', 'a b', 'x'.repeat(64), 'x'.repeat(65), 'a"b', 'a\\b') },
);
const featureValue = fc.oneof(
  { weight: 3, arbitrary: numberText.map((t) => ({ raw: t })) },
  { weight: 2, arbitrary: str(12, 1024).map((s) => ({ raw: JSON.stringify(s) })) },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null', 'true', 'false', 'null', '{}', '[]', '[1]', '{"a":1}', '"\\u0041"').map((t) => ({ raw: t })) },
);
/** Features as raw JSON text: keys in any order, possibly repeated, sometimes too many. */
const featuresText = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(featureKey, featureValue), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 63, max: 66 }).map((n) => Array.from({ length: n }, (_, i) => [`k${String(i).padStart(2, '0')}`, { raw: String(i) }] as [string, { raw: string }])) },
).chain((entries) =>
  fc.boolean().map((sorted) => {
    const es = sorted ? [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) : entries;
    return `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v.raw}`).join(',')}}`;
  }),
);

const nullable = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) });

const cleanText = (max: number) => fc.array(cleanChar, { maxLength: max }).map((a) => a.join(''));
const token = fc.oneof({ weight: 6, arbitrary: cleanText(10).filter((s) => s.length > 0) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...FORMULA.slice(0, 5)), cleanText(6)).map(([f, t]) => f + t) });
const positive = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }).map((n) => JSON.stringify(n)) },
  { weight: 1, arbitrary: fc.constantFrom('0', '12.4', '1e-7', '1e21', '1.5e-7', '0.30000000000000004', '1234567890123456', '1.0', '1.50', '1e2', '1E2', '0.0', '100', '0.000001') },
);

/** A record's fields as raw JSON value texts (undefined = key left out), mostly valid. */
const fields = fc.record(
  {
    task_id: fc.oneof({ weight: 6, arbitrary: token }, { weight: 1, arbitrary: nearLimit(256) }).map((s) => JSON.stringify(s)),
    domain: fc.constantFrom('example.org', 'Example.ORG', 'b.com', 'a', '=evil.com', 'x,y.com', "'q.net", '-d.io', '@x', '+1.net', 'bücher.de', 'İstanbul.tr', 'A\u00a0B').map((s) => JSON.stringify(s)),
    url: nullable(fc.oneof({ weight: 6, arbitrary: cleanText(20) }, { weight: 1, arbitrary: nearLimit(8192) }).map((s) => JSON.stringify(s))),
    action_attempted: fc.oneof(token, fc.constantFrom('blog_comment', '=SUM(1)')).map((s) => JSON.stringify(s)),
    result: fc.constantFrom('"success"', '"failure"', '"error"', 'true', 'false'),
    failure_reason: nullable(fc.oneof({ weight: 6, arbitrary: cleanText(20) }, { weight: 1, arbitrary: nearLimit(4096) }).map((s) => JSON.stringify(s))),
    execution_time: nullable(positive),
    model: nullable(fc.oneof(token, fc.constant('backlink-success')).map((s) => JSON.stringify(s))),
    model_version: nullable(fc.oneof(token, fc.constant('v1.2.0')).map((s) => JSON.stringify(s))),
    response_time_ms: nullable(positive),
    timestamp: fc.oneof(
      { weight: 4, arbitrary: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()) },
      { weight: 2, arbitrary: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')) },
      { weight: 1, arbitrary: fc.constantFrom('2024-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '0050-06-01T12:00:00.500Z', '0099-12-31T23:59:59Z', '0100-01-01T00:00:00Z', '2026-11-26T10:00:00+02:00', '2026-11-26t10:00:00z', '2026-11-26T10:00:00.1234567Z') },
    ).map((s) => JSON.stringify(s)),
    features: featuresText,
  },
  { requiredKeys: ['task_id', 'domain', 'action_attempted', 'result', 'timestamp'] },
);

/** Values that are wrong (or unusual) for some field: one of them replaces one field of a line. */
const oddValue = fc.oneof(
  text(12).map((s) => JSON.stringify(s)),
  numberText,
  timestamp.map((s) => JSON.stringify(s)),
  fc.constantFrom('null', 'true', 'false', '""', '"maybe"', '"Success"', '{}', '[]', '1', '-1', '"a b"', '"a/b"', '"d\u007f"', '"\\u0041"', '"x\\ny"'),
  nearLimit(256).map((s) => JSON.stringify(s)),
);

const ws = fc.constantFrom('', '', '', ' ', '\t', '  ', '\r', ' \r\n'.slice(0, 2));

/**
 * A line from raw fields: canonical order or shuffled, optional whitespace, extra, repeated or
 * escaped keys, at most one field replaced by an odd value.
 */
const line = fc
  .tuple(
    fields,
    fc.boolean(),
    fc.array(fc.nat(), { minLength: 14, maxLength: 14 }),
    fc.constantFrom('none', 'none', 'none', 'none', 'none', 'ws', 'ws', 'extra', 'repeat', 'escape-key', 'trailing', 'leading', 'odd', 'odd', 'odd', 'drop'),
    ws,
    oddValue,
    fc.nat(),
  )
  .map(([f, shuffle, perm, variant, w, odd, which]) => {
    let entries = Object.entries(f).filter(([, v]) => v !== undefined) as Array<[string, string | null]>;
    entries = entries.map(([k, v]) => [k, v === null ? 'null' : v]);
    if (variant === 'odd') entries[which % entries.length]![1] = odd;
    if (variant === 'drop') entries.splice(which % entries.length, 1);
    if (shuffle) entries = entries.map((e, i) => [e, perm[i]!] as const).sort((a, b) => a[1] - b[1]).map(([e]) => e);
    if (variant === 'extra') entries.push(['extra', '1']);
    if (variant === 'repeat' && entries.length) entries.push(entries[which % entries.length]!);
    const key = (k: string) => (variant === 'escape-key' && k === 'domain' ? '"\\u0064omain"' : JSON.stringify(k));
    const sep = variant === 'ws' ? w : '';
    const body = entries.map(([k, v]) => `${sep}${key(k)}${sep}:${sep}${v}${sep}`).join(',');
    return `${variant === 'leading' ? w : ''}{${body}}${variant === 'trailing' ? w : ''}`;
  });

describe('fast row path = full path', () => {
  it('writes the full path row or declines, for any line (property)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(line, (l) => {
        if (check(l) === 'fast') accepted++;
      }),
      { numRuns: 4000 },
    );
    // The generator must exercise the fast path itself, not only the refusals.
    expect(accepted).toBeGreaterThan(400);
  });

  it('takes the collector lines of valid records without falling back', () => {
    const plain = fc.stringMatching(/^[a-zA-Z0-9 ,.:=+@'_-]{1,30}$/);
    fc.assert(
      fc.property(
        fc.record({
          task_id: plain,
          domain: fc.stringMatching(/^[a-zA-Z0-9.,=@'-]{1,30}$/),
          url: fc.option(fc.oneof(plain, fc.constant(''), fc.constant('https://bücher.de/ü?a=1,2'))),
          action_attempted: plain,
          result: fc.constantFrom('success', 'failure', 'error', true, false),
          failure_reason: fc.option(fc.oneof(plain, fc.constant(''), fc.constant('=1+1'), fc.constant('中文, 😀'))),
          execution_time: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true })),
          model: fc.option(plain),
          model_version: fc.option(plain),
          response_time_ms: fc.option(fc.double({ min: 0, max: 1e4, noNaN: true })),
          timestamp: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
          features: fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,20}$/).filter((k) => k !== '__proto__'), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), plain), { maxKeys: 8 }),
        }),
        (raw) => {
          const l = outcomeToJson(normalizeOutcome(raw));
          expect(check(l)).toBe('fast');
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('handles the edge cases it is meant to decline or take', () => {
    const base = { task_id: 't-1', domain: 'a.org', action_attempted: 'x', result: 'success', timestamp: '2026-11-26T10:00:00Z' };
    const cases = [
      JSON.stringify(base),
      JSON.stringify({ ...base, features: { b: 1, a: 2 } }),
      JSON.stringify({ ...base, features: { a: 1e21, b: 1e-7, c: -0, d: 0.1 + 0.2 } }),
      JSON.stringify({ ...base, execution_time: 1e21, response_time_ms: 1e-7 }),
      JSON.stringify({ ...base, task_id: 'a\u2028b' }),
      JSON.stringify({ ...base, task_id: '\u{1F600}'.repeat(256) }),
      JSON.stringify({ ...base, task_id: '\u{1F600}'.repeat(257) }),
      JSON.stringify({ ...base, domain: 'Ab,C.org' }),
      JSON.stringify({ ...base, domain: "'=x" }),
      JSON.stringify({ ...base, failure_reason: 'a "quoted", reason' }),
      JSON.stringify({ ...base, failure_reason: 'line\nbreak' }),
      JSON.stringify({ ...base, timestamp: '0050-01-01T00:00:00Z' }),
      JSON.stringify({ ...base, features: { x: 'a,b', y: '' } }),
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z","features":{"a":1,"a":2}}',
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z","features":{"__proto__":1}}',
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z","task_id":"t-2"}',
      '{"task_id":"t\\u002d1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z"}',
      ' { "task_id" : "t-1" , "domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z" } ',
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z","execution_time":1.50,"response_time_ms":1E2}',
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z","execution_time":-0}',
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z","execution_time":1e999}',
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z"}x',
      '{"task_id":"t-1","domain":"a.org","action_attempted":"x","result":"success","timestamp":"2026-11-26T10:00:00Z"',
      '{"task_id":"t-1","domain":"a.org","url":null,"action_attempted":"x","result":"success","failure_reason":null,"execution_time":null,"model":null,"model_version":null,"response_time_ms":null,"timestamp":"2026-11-26T10:00:00.000Z","features":{}}',
      '{"task_id":"t-1","domain":"a.org","url":null,"action_attempted":"x","result":"success","failure_reason":null,"execution_time":null,"model":null,"model_version":null,"response_time_ms":null,"timestamp":"2026-11-26T10:00:00.000Z","features":{"a":[1]}}',
      '{"task_id":"t-1","domain":"a.org","url":null,"action_attempted":"x","result":"success","failure_reason":null,"execution_time":null,"model":"","model_version":null,"response_time_ms":null,"timestamp":"2026-11-26T10:00:00.000Z","features":{}}',
    ];
    const outcomes = cases.map(check);
    expect(outcomes[0]).toBe('fast');
    expect(outcomes[1]).toBe('fast'); // unsorted features: sorted by the general walk
    expect(outcomes[2]).toBe('fast');
    expect(outcomes[5]).toBe('fast');
    expect(outcomes[6]).toBe('declined'); // 257 code points
    expect(outcomes[10]).toBe('declined'); // escape
    expect(outcomes[13]).toBe('declined'); // duplicate feature key
    expect(outcomes[14]).toBe('declined'); // __proto__
    expect(outcomes[17]).toBe('fast'); // whitespace everywhere
    expect(outcomes[23]).toBe('fast'); // the collector's own line
  });
});
