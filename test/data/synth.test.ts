import { describe, expect, it } from 'vitest';
import { normalizeOutcome } from '../../src/data/outcome.js';
import { ACTIONS, synthOutcomes, synthOutcomeStream } from '../../src/data/synth.js';

const base = { start: '2026-09-01T00:00:00Z', end: '2026-12-01T00:00:00Z' };

describe('synthetic outcomes', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = synthOutcomes({ seed: 1, rows: 300, ...base });
    expect(synthOutcomes({ seed: 1, rows: 300, ...base })).toEqual(a);
    expect(synthOutcomes({ seed: 2, rows: 300, ...base })).not.toEqual(a);
    const streamed = [...synthOutcomeStream({ seed: 1, rows: 300, ...base })];
    expect(streamed).toEqual(a);
  });

  it('keeps one world (domains and their rates) across samples with the same worldSeed', () => {
    const week1 = synthOutcomes({ seed: 1, worldSeed: 9, rows: 3000, ...base });
    const week2 = synthOutcomes({ seed: 2, worldSeed: 9, rows: 3000, ...base });
    const other = synthOutcomes({ seed: 2, rows: 3000, ...base });
    const domains = (xs: typeof week1) => new Set(xs.map((r) => r.domain));
    const overlap = (a: Set<string>, b: Set<string>) => [...a].filter((d) => b.has(d)).length / a.size;
    expect(overlap(domains(week2), domains(week1))).toBeGreaterThan(0.8);
    expect(overlap(domains(other), domains(week1))).toBeLessThan(0.3);
    expect(week2).not.toEqual(week1);
  });

  it('writes valid, already-normalized records within the time range', () => {
    const rows = synthOutcomes({ seed: 3, rows: 2000, ...base });
    for (const r of rows) expect(normalizeOutcome(r)).toEqual(r);
    expect(new Set(rows.map((r) => r.task_id)).size).toBe(2000);
    expect(rows.every((r) => r.timestamp >= '2026-09-01' && r.timestamp < '2026-12-01T00:00:00.001Z')).toBe(true);
  });

  it('looks like real traffic: many domains, every action, errors, latencies, day/night cycle', () => {
    const rows = synthOutcomes({ seed: 4, rows: 20_000, ...base });
    const domains = new Map<string, number>();
    for (const r of rows) domains.set(r.domain, (domains.get(r.domain) ?? 0) + 1);
    expect(domains.size).toBeGreaterThan(250);
    const counts = [...domains.values()].sort((x, y) => y - x);
    expect(counts[0]!).toBeGreaterThan(20 * counts[counts.length - 1]!); // a head and a long tail
    expect(new Set(rows.map((r) => r.action_attempted))).toEqual(new Set(ACTIONS));
    const by = (k: string) => rows.filter((r) => r.result === k).length / rows.length;
    expect(by('error')).toBeGreaterThan(0.02);
    expect(by('success')).toBeGreaterThan(0.4);
    expect(by('failure')).toBeGreaterThan(0.25);
    expect(rows.every((r) => r.response_time_ms! > 0 && r.execution_time! > 0)).toBe(true);
    const hour = (r: (typeof rows)[number]) => new Date(r.timestamp).getUTCHours();
    expect(rows.filter((r) => hour(r) === 14).length).toBeGreaterThan(2 * rows.filter((r) => hour(r) === 3).length);
    expect(rows.every((r) => (r.result === 'success') === (r.failure_reason === null))).toBe(true);
  });

  it('has interactions a linear model misses: forums fail at night, guest posts have an authority sweet spot', () => {
    const rows = synthOutcomes({ seed: 5, rows: 40_000, ...base });
    const rate = (xs: typeof rows) => xs.filter((r) => r.result === 'success').length / xs.length;
    const forum = rows.filter((r) => r.action_attempted === 'forum_post');
    const night = forum.filter((r) => new Date(r.timestamp).getUTCHours() < 6);
    const day = forum.filter((r) => new Date(r.timestamp).getUTCHours() >= 9 && new Date(r.timestamp).getUTCHours() <= 18);
    expect(rate(day) - rate(night)).toBeGreaterThan(0.25);
    const gp = rows.filter((r) => r.action_attempted === 'guest_post');
    const da = (r: (typeof rows)[number]) => r.features.domain_authority as number;
    const mid = rate(gp.filter((r) => da(r) >= 35 && da(r) <= 55));
    expect(mid - rate(gp.filter((r) => da(r) < 20))).toBeGreaterThan(0.2);
    expect(mid - rate(gp.filter((r) => da(r) > 75))).toBeGreaterThan(0.2);
  });

  it('drifts after the given date', () => {
    const opts = { seed: 6, rows: 40_000, ...base, drift: { at: '2026-10-15T00:00:00Z' } };
    const rows = synthOutcomes(opts);
    const nightForum = (xs: typeof rows) => {
      const f = xs.filter((r) => r.action_attempted === 'forum_post' && new Date(r.timestamp).getUTCHours() < 6);
      return f.filter((r) => r.result === 'success').length / f.length;
    };
    const before = rows.filter((r) => r.timestamp < '2026-10-15');
    const after = rows.filter((r) => r.timestamp >= '2026-10-15');
    expect(nightForum(after) - nightForum(before)).toBeGreaterThan(0.2);
    const errors = (xs: typeof rows) => xs.filter((r) => r.result === 'error').length / xs.length;
    expect(errors(after)).toBeGreaterThan(1.5 * errors(before));
    // Without drift the same seed keeps one world.
    const still = synthOutcomes({ ...opts, drift: undefined });
    expect(Math.abs(nightForum(still.filter((r) => r.timestamp >= '2026-10-15')) - nightForum(still.filter((r) => r.timestamp < '2026-10-15')))).toBeLessThan(0.1);
  });
});
