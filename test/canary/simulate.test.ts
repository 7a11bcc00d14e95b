import { describe, expect, it } from 'vitest';
import { simulateCanary, seededRandom, type Behaviour } from '../../src/canary/simulate.js';
import { aggregateOutcomes } from '../../src/canary/aggregate.js';
import { checkOutcome } from '../../src/data/outcome.js';

const START = '2026-11-29T09:00:00.000Z';
const healthy: Behaviour = { success_rate: 0.85, error_rate: 0.01, latency: { median_ms: 20, p95_ms: 60 } };
const bad: Behaviour = { success_rate: 0.7, error_rate: 0.2, latency: { median_ms: 40, p95_ms: 150 } };
const opts = {
  seed: 7,
  requestsPerHour: 2000,
  hours: 24,
  startedAt: START,
  production: { version: 'v1.2.0', behaviour: healthy },
  canary: { version: 'v1.3.0', weight: 0.1, behaviour: bad },
};

describe('simulateCanary', () => {
  const records = [...simulateCanary(opts)];

  it('is deterministic for a seed and differs between seeds', () => {
    expect([...simulateCanary(opts)]).toEqual(records);
    expect([...simulateCanary({ ...opts, seed: 8 })]).not.toEqual(records);
  });

  it('produces valid outcome records the collector accepts', () => {
    for (const r of records.slice(0, 500)) expect(checkOutcome(r)).toMatchObject({ ok: true });
    expect(new Set(records.map((r) => r.task_id)).size).toBe(records.length);
  });

  it('has Poisson traffic at the rate, routed at the weight, within the window', () => {
    // 48,000 expected requests: sd ~219, so 3% is far beyond chance.
    expect(Math.abs(records.length / 48_000 - 1)).toBeLessThan(0.03);
    const canary = records.filter((r) => r.model_version === 'v1.3.0').length;
    expect(Math.abs(canary / records.length - 0.1)).toBeLessThan(0.01);
    const start = Date.parse(START);
    for (const r of records) {
      const t = Date.parse(r.timestamp);
      expect(t).toBeGreaterThanOrEqual(start);
      expect(t).toBeLessThan(start + 24 * 3_600_000 + 31_000); // arrival + at most 30 s execution
    }
  });

  it('gives each version its behaviour', () => {
    const a = aggregateOutcomes(records, { model: 'backlink-success', version: 'v1.3.0', production: 'v1.2.0', startedAt: START, at: '2026-12-01T00:00:00Z', bounds: { up: 60, down: 150 } });
    const c = a.canary;
    const p = a.production_streams!;
    expect(c.E.k / c.E.n).toBeCloseTo(0.2, 1);
    expect(c.S.k / c.S.n).toBeCloseTo(0.3, 1);
    expect(p.E.k / p.E.n).toBeCloseTo(0.01, 2);
    expect(p.S.k / p.S.n).toBeCloseTo(0.15, 1);
    // The bounds are each version's configured p95: about 5% of records lie above.
    expect(Math.abs(c.Ldown.k / c.Ldown.n - 0.05)).toBeLessThan(0.015);
    expect(Math.abs(p.Lup.k / p.Lup.n - 0.05)).toBeLessThan(0.005);
  });

  it('sends everything to the canary without production, and nothing without traffic', () => {
    const lone = [...simulateCanary({ ...opts, hours: 1, production: null })];
    expect(lone.every((r) => r.model_version === 'v1.3.0')).toBe(true);
    expect([...simulateCanary({ ...opts, requestsPerHour: 0 })]).toEqual([]);
  });

  it('yields exactly the canary records of a full run with only: canary', () => {
    expect([...simulateCanary({ ...opts, only: 'canary' })]).toEqual(records.filter((r) => r.model_version === 'v1.3.0'));
  });

  it('routes per request with the bernoulli option', () => {
    const r = [...simulateCanary({ ...opts, routing: 'bernoulli', canary: { ...opts.canary, weight: 0.5 } })];
    const share = r.filter((x) => x.model_version === 'v1.3.0').length / r.length;
    expect(Math.abs(share - 0.5)).toBeLessThan(0.02);
  });

  it('rejects impossible behaviour', () => {
    expect(() => [...simulateCanary({ ...opts, canary: { ...opts.canary, behaviour: { ...bad, success_rate: 0.9 } } })]).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('seededRandom', () => {
  it('is uniform enough on [0, 1)', () => {
    const r = seededRandom(1);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      bins[Math.floor(x * 10)]++;
    }
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});
