import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OutcomeAggregator, type OutcomeAggregate } from '../../src/canary/aggregate.js';
import { foldOutcomeLine, lineMatcher } from '../../src/metrics/scan-outcome-line.js';

const START = '2026-11-29T09:00:00.000Z';
const options = { model: 'backlink-success', version: 'v1.3.0', production: 'v1.2.0', startedAt: START, at: '2026-11-30T09:00:00.000Z', bounds: { up: 100, down: 200 } };

/** Folds lines through the fast scanner and, separately, through JSON.parse + add. */
function both(lines: string[], opts: { production?: string | null } = {}): [OutcomeAggregate, OutcomeAggregate] {
  const fast = new OutcomeAggregator({ ...options, ...opts });
  const m = lineMatcher(fast);
  for (const line of lines) {
    const b = Buffer.from(line, 'utf8');
    foldOutcomeLine(b, 0, b.length, m);
  }
  const slow = new OutcomeAggregator({ ...options, ...opts });
  for (const line of lines) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      slow.countInvalid();
      continue;
    }
    slow.add(v);
  }
  return [fast.result(), slow.result()];
}

const record = fc.record(
  {
    task_id: fc.oneof(fc.string({ minLength: 0, maxLength: 12 }), fc.constantFrom('t-1', 't-2', 't-3', 'tâche-é', 't"q', 't\\b', 'dup')),
    domain: fc.string({ maxLength: 20 }),
    url: fc.oneof(fc.constant(null), fc.string({ maxLength: 30 })),
    result: fc.constantFrom<unknown>('success', 'failure', 'error', true, false, 'maybe', null, 1),
    model: fc.constantFrom<unknown>('backlink-success', 'other', null, 'backlink-succes\u0073'),
    model_version: fc.constantFrom<unknown>('v1.3.0', 'v1.2.0', 'v1.1.0', null, 3, 'v1.3.0 '),
    response_time_ms: fc.oneof(
      fc.constant(null),
      fc.double({ min: 0, max: 1000, noNaN: true }),
      fc.constantFrom<unknown>(100, 100.00000000000001, 200, 1e2, -5, 0, 1.5e-7, 12345678901234567, '10'),
    ),
    timestamp: fc.oneof(
      fc.date({ min: new Date('2026-11-29T08:00:00Z'), max: new Date('2026-11-30T10:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('2026-11-29T10:00:00Z', '2026-11-29T12:00:00.5+02:00', '2026-11-29T10:00:00', 'garbage', '2026-11-29T10:00:00.123456Z'),
    ),
    features: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null))),
  },
  { requiredKeys: [] },
);

// Ways a line can be written: the collector's JSON.stringify, pretty with spaces, keys reversed,
// every non-ASCII or even ASCII character escaped, nested junk.
const writers: Array<[string, (r: Record<string, unknown>) => string]> = [
  ['JSON.stringify', (r) => JSON.stringify(r)],
  ['spaced', (r) => JSON.stringify(r, null, 1).replace(/\n/g, ' ')],
  ['reversed keys', (r) => JSON.stringify(Object.fromEntries(Object.entries(r).reverse()))],
  ['ASCII escapes', (r) => JSON.stringify(r).replace(/v1\.3\.0/g, '\\u00761.3.0')],
  ['escaped key', (r) => JSON.stringify(r).replace('"result"', '"res\\u0075lt"')],
  ['nested decoy', (r) => JSON.stringify({ features: { result: 'error', model_version: 'v1.3.0', '"}': '{[' }, ...r })],
  ['duplicate key', (r) => JSON.stringify(r).replace(/^\{/, '{"result":"error",')],
  ['CR and tabs', (r) => `\t${JSON.stringify(r)}\r`],
];

describe('foldOutcomeLine (fast path) matches JSON.parse', () => {
  it.each(writers)('for lines written as %s', (_name, write) => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), fc.constantFrom<string | null | undefined>('v1.2.0', null, undefined), (records, production) => {
        const lines = records.map((r) => write(r as Record<string, unknown>));
        const [fast, slow] = both(lines, { production });
        expect(fast).toEqual(slow);
      }),
      { numRuns: 60 },
    );
  });

  it.each([
    ['truncated', '{"task_id":"t-1","result":"success","model_version":"v1.3.0","timestamp":"2026-11-29T10:00:00.000Z"'],
    ['not an object', '[1,2,3]'],
    ['a bare string', '"hello"'],
    ['trailing garbage', '{"task_id":"t-1","result":"success","model_version":"v1.3.0","timestamp":"2026-11-29T10:00:00.000Z"} x'],
    ['two objects', '{"a":1}{"b":2}'],
    ['an unterminated string', '{"task_id":"t-1,"result":"success"}'],
    ['unbalanced nesting', '{"features":{"a":[1,2},"task_id":"t"}'],
    ['blank', '   '],
    ['empty object', '{}'],
  ])('and agrees on a line that is %s', (_name, line) => {
    const [fast, slow] = both([line]);
    expect(fast).toEqual(slow);
  });

  it('reads the collector\'s canonical lines without falling back', () => {
    const line = JSON.stringify({
      task_id: 't-81723', domain: 'example.org', url: 'https://example.org/blog/x', action_attempted: 'blog_comment', result: 'error',
      failure_reason: 'timeout "quoted"', execution_time: 12.4, model: 'backlink-success', model_version: 'v1.3.0', response_time_ms: 150.25,
      timestamp: '2026-11-29T10:00:00.000Z', features: { domain_authority: 42, note: 'a \\ backslash' },
    });
    const agg = new OutcomeAggregator(options);
    const add = agg.add.bind(agg);
    let slowPath = 0;
    agg.add = (r: unknown) => {
      slowPath++;
      return add(r);
    };
    const b = Buffer.from(line);
    expect(foldOutcomeLine(b, 0, b.length, lineMatcher(agg))).toBe(true);
    expect(slowPath).toBe(0);
    expect(agg.result().canary).toEqual({ S: { n: 1, k: 1 }, E: { n: 1, k: 1 }, Lup: { n: 1, k: 1 }, Ldown: { n: 1, k: 0 } });
  });
});
