import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultConfig } from '../../src/config/config.js';
import {
  OutcomeAggregator,
  aggregateOutcomes,
  histogramQuantile,
  lambdaTrajectory,
  latencyBin,
  parseTimestamp,
} from '../../src/canary/aggregate.js';
import { FingerprintSet, fingerprintBytes, fingerprintString } from '../../src/canary/fingerprint.js';
import { decideCanary } from '../../src/canary/decide.js';

const START = '2026-11-29T09:00:00.000Z';
const AT = '2026-11-30T09:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(START) + minutes * 60_000).toISOString();
const base = { model: 'backlink-success', version: 'v1.3.0', production: 'v1.2.0', startedAt: START, at: AT, bounds: { up: 100, down: 200 } };

let seq = 0;
function rec(over: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    task_id: `t-${seq}`,
    domain: 'example.org',
    action_attempted: 'blog_comment',
    result: 'success',
    model: 'backlink-success',
    model_version: 'v1.3.0',
    response_time_ms: 10,
    timestamp: at(30),
    ...over,
  };
}

describe('aggregateOutcomes', () => {
  it('counts the four streams of the canary and of production', () => {
    const records = [
      rec({ result: 'success', response_time_ms: 50 }),
      rec({ result: 'failure', response_time_ms: 100 }), // exactly at the bound: not above it
      rec({ result: 'error', response_time_ms: 100.5 }),
      rec({ result: true, response_time_ms: 250 }),
      rec({ result: false, response_time_ms: null }), // no latency: S and E only
      rec({ model_version: 'v1.2.0', result: 'error', response_time_ms: 300 }),
      rec({ model_version: 'v1.2.0', result: 'success' }),
    ];
    const a = aggregateOutcomes(records, base);
    expect(a.canary).toEqual({ S: { n: 5, k: 3 }, E: { n: 5, k: 1 }, Lup: { n: 4, k: 2 }, Ldown: { n: 4, k: 1 } });
    expect(a.production_streams).toEqual({ S: { n: 2, k: 1 }, E: { n: 2, k: 1 }, Lup: { n: 2, k: 1 }, Ldown: { n: 2, k: 1 } });
    expect(a.other).toBe(0);
  });

  it('counts a task_id once: the first record in store order wins', () => {
    const a = aggregateOutcomes(
      [rec({ task_id: 'dup', result: 'error' }), rec({ task_id: 'dup', result: 'success' }), rec({ task_id: 'dup', model_version: 'v1.2.0' })],
      base,
    );
    expect(a.canary.E).toEqual({ n: 1, k: 1 });
    expect(a.skipped.canary.duplicate).toBe(1);
    expect(a.skipped.production.duplicate).toBe(1);
    expect(a.production_streams!.S.n).toBe(0);
  });

  it('ignores and counts records from the future of `at` and from before the start', () => {
    const a = aggregateOutcomes(
      [
        rec({ task_id: 'f', timestamp: '2026-11-30T09:00:00.001Z' }),
        rec({ timestamp: '2026-11-30T09:00:00.000Z' }), // exactly at `at`: counted
        rec({ timestamp: START }), // exactly at the start: counted
        rec({ timestamp: '2026-11-29T08:59:59.999Z' }),
        rec({ task_id: 'f', timestamp: at(10) }), // the same task inside the window still counts
        rec({ model_version: 'v1.2.0', timestamp: '2027-01-01T00:00:00Z' }),
      ],
      base,
    );
    expect(a.canary.S.n).toBe(3);
    expect(a.skipped.canary).toEqual({ future: 1, before_start: 1, duplicate: 0 });
    expect(a.skipped.production.future).toBe(1);
  });

  it.each([
    ['not an object', 'hello'],
    ['an array', []],
    ['no result', { result: undefined }],
    ['an unknown result', { result: 'maybe' }],
    ['no timestamp', { timestamp: undefined }],
    ['a timestamp without a zone', { timestamp: '2026-11-29T10:00:00' }],
    ['an impossible date', { timestamp: '2026-02-30T10:00:00Z' }],
    ['no task_id', { task_id: undefined }],
    ['an empty task_id', { task_id: '' }],
    ['a numeric model_version', { model_version: 3 }],
    ['a string response time', { response_time_ms: '10' }],
  ])('counts a record with %s as invalid', (_name, over) => {
    const r = typeof over === 'string' || Array.isArray(over) ? over : rec(over as Record<string, unknown>);
    const a = aggregateOutcomes([r], base);
    expect(a.skipped.invalid).toBe(1);
    expect(a.canary.S.n).toBe(0);
  });

  it('separates other models and versions, and reads records without a model field', () => {
    const a = aggregateOutcomes(
      [rec({ model: 'other-model' }), rec({ model_version: 'v0.9.0' }), rec({ model_version: null }), rec({ model: undefined }), rec({ model: null })],
      base,
    );
    expect(a.other).toBe(3);
    expect(a.canary.S.n).toBe(2);
  });

  it('counts every other version of the model as production when none is named, and none when null', () => {
    const records = [rec({ model_version: 'v1.1.0' }), rec({ model_version: 'v1.2.0' }), rec()];
    expect(aggregateOutcomes(records, { ...base, production: undefined }).production_streams!.S.n).toBe(2);
    const none = aggregateOutcomes(records, { ...base, production: null });
    expect(none.production_streams).toBeNull();
    expect(none.hourly[0]!.production).toBeNull();
    expect(none.other).toBe(2);
  });

  it('buckets by hour since the start, with rates and a latency quantile', () => {
    const records = [
      ...Array.from({ length: 20 }, (_, i) => rec({ timestamp: at(5), response_time_ms: i + 1, result: i < 2 ? 'error' : 'success' })),
      rec({ timestamp: at(60), result: 'failure' }), // first instant of hour 1
      rec({ timestamp: at(23 * 60 + 59), model_version: 'v1.2.0' }),
    ];
    const a = aggregateOutcomes(records, base);
    expect(a.hourly).toHaveLength(24);
    expect(a.hourly[0]).toMatchObject({ hour: 0, start: START, end: at(60) });
    expect(a.hourly[0]!.canary).toMatchObject({ n: 20, success_rate: 0.9, error_rate: 0.1, latency_n: 20 });
    // The 19th smallest of 1..20 ms is 19 ms; the histogram answers within its 2.5% resolution.
    expect(a.hourly[0]!.canary.latency_quantile_ms! / 19).toBeGreaterThan(0.975);
    expect(a.hourly[0]!.canary.latency_quantile_ms! / 19).toBeLessThan(1.025);
    expect(a.hourly[1]!.canary).toMatchObject({ n: 1, success_rate: 0, error_rate: 0 });
    expect(a.hourly[5]!.canary).toMatchObject({ n: 0, success_rate: null, latency_quantile_ms: null });
    expect(a.hourly[23]!.production).toMatchObject({ n: 1, success_rate: 1 });
  });

  it('traces Λ per stream over the hours, ending at the value the decision sees', () => {
    const config = defaultConfig();
    const records = Array.from({ length: 48 }, (_, i) => rec({ timestamp: at(i * 30 + 1), result: i % 5 === 0 ? 'error' : 'success' }));
    const a = aggregateOutcomes(records, base);
    const t = lambdaTrajectory(a, config);
    expect(t).toHaveLength(24);
    expect(t[0]!.streams.E).toMatchObject({ n: 2, k: 1 });
    expect(t[0]!.streams.E.llr).toBeCloseTo(Math.log(2) + Math.log(0.9 / 0.95), 12);
    const v = decideCanary(a.canary, config, { startedAt: START, now: AT });
    for (const s of ['S', 'E', 'Lup', 'Ldown'] as const) expect(t[23]!.streams[s].llr).toBeCloseTo(v.streams[s].llr, 12);
  });

  it('gives the same counts however the records are split between aggregators fed in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            task: fc.integer({ min: 0, max: 30 }),
            version: fc.constantFrom('v1.3.0', 'v1.2.0', 'v9.9.9'),
            result: fc.constantFrom('success', 'failure', 'error', true, false),
            rt: fc.option(fc.double({ min: 0, max: 500, noNaN: true }), { nil: null }),
            minute: fc.integer({ min: -120, max: 26 * 60 }),
          }),
          { maxLength: 200 },
        ),
        (items) => {
          const records = items.map((x) => rec({ task_id: `t${x.task}`, model_version: x.version, result: x.result, response_time_ms: x.rt, timestamp: at(x.minute) }));
          const a = aggregateOutcomes(records, base);
          // Reference: a plain fold with a Set of task ids.
          const seen = new Set<string>();
          let n = 0;
          let kS = 0;
          let kE = 0;
          let nL = 0;
          let kUp = 0;
          for (const r of records) {
            const ts = Date.parse(r.timestamp as string);
            if (r.model_version !== 'v1.3.0' || ts > Date.parse(AT) || ts < Date.parse(START) || seen.has(r.task_id as string)) continue;
            seen.add(r.task_id as string);
            n++;
            if (r.result !== 'success' && r.result !== true) kS++;
            if (r.result === 'error') kE++;
            if (typeof r.response_time_ms === 'number') {
              nL++;
              if (r.response_time_ms > 100) kUp++;
            }
          }
          // Seen is shared with production records, so only compare when no task crosses versions.
          const crosses = new Set(records.filter((r) => r.model_version !== 'v1.3.0').map((r) => r.task_id));
          if (records.some((r) => r.model_version === 'v1.3.0' && crosses.has(r.task_id))) return;
          expect(a.canary).toMatchObject({ S: { n, k: kS }, E: { n, k: kE }, Lup: { n: nL, k: kUp } });
          expect(a.hourly.reduce((s, h) => s + h.canary.n, 0)).toBe(n);
        },
      ),
    );
  });

  it('rejects an invalid window', () => {
    expect(() => new OutcomeAggregator({ ...base, at: 'now' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('parseTimestamp', () => {
  it('agrees with Date.parse on RFC 3339 date-times with a zone', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: -14 * 60, max: 14 * 60 }), (d, off) => {
        const iso = d.toISOString();
        expect(parseTimestamp(iso)).toBe(d.getTime());
        // The same instant written in another zone.
        const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 23);
        const sign = off < 0 ? '-' : '+';
        const zone = `${sign}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
        expect(parseTimestamp(local + zone)).toBe(d.getTime());
      }),
    );
  });

  it.each(['2026-11-29', '2026-11-29T10:00:00', '2026-13-01T00:00:00Z', '2026-11-29T24:00:00Z', 'Nov 29 2026', '2026-11-29T10:00:00+25:00'])('rejects %s', (s) => {
    expect(parseTimestamp(s)).toBeNaN();
  });

  it('truncates sub-millisecond digits like the collector', () => {
    expect(parseTimestamp('2026-11-29T10:00:00.123999Z')).toBe(Date.parse('2026-11-29T10:00:00.123Z'));
    expect(parseTimestamp('2026-11-29t10:00:00.5z')).toBe(Date.parse('2026-11-29T10:00:00.500Z'));
  });
});

describe('latency histogram', () => {
  it('finds the quantile within 2.5% of the exact order statistic', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.02, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.constantFrom(0.5, 0.9, 0.95, 0.99), (xs, q) => {
        const hist = new Uint32Array(500);
        for (const x of xs) hist[latencyBin(x)]!++;
        const sorted = [...xs].sort((a, b) => a - b);
        const exact = sorted[Math.max(1, Math.ceil(q * xs.length)) - 1]!;
        const est = histogramQuantile(hist, xs.length, q)!;
        expect(est / exact).toBeGreaterThan(1 / 1.026);
        expect(est / exact).toBeLessThan(1.026);
      }),
    );
  });
});

describe('fingerprints', () => {
  it('of a string equal those of its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(fingerprintString(s)).toEqual(fingerprintBytes(Buffer.from(s, 'utf8')));
      }),
    );
  });

  it('FingerprintSet behaves like a Set across growth', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 3000 }), (ids) => {
        const set = new FingerprintSet(16);
        const ref = new Set<number>();
        for (const id of ids) {
          const [a, b] = fingerprintString(`task-${id}`);
          expect(set.add(a, b)).toBe(!ref.has(id));
          ref.add(id);
        }
        expect(set.size).toBe(ref.size);
      }),
    );
  });
});
