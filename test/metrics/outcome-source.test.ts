import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, appendFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outcomeStoreSource, type OutcomeSourceWarning } from '../../src/metrics/outcome-source.js';
import { simulateCanary } from '../../src/canary/simulate.js';
import { aggregateOutcomes } from '../../src/canary/aggregate.js';
import { getFeedbackCollector } from '../../src/data/collector.js';

const START = '2026-11-29T09:00:00.000Z';
const AT = '2026-11-30T09:00:00.000Z';
const request = {
  model: 'backlink-success',
  version: 'v1.3.0',
  production: 'v1.2.0',
  startedAt: START,
  at: AT,
  thresholds: { canary: { max_response_time_ms: 100 }, rollback: { max_response_time_ms: 200 } },
};

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function store(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-outcomes-'));
  dirs.push(dir);
  mkdirSync(join(dir, '.mlops', 'outcomes'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, '.mlops', 'outcomes', name), text);
  return dir;
}

function line(over: Record<string, unknown>): string {
  return JSON.stringify({
    task_id: 't',
    domain: 'example.org',
    action_attempted: 'blog_comment',
    result: 'success',
    model: 'backlink-success',
    model_version: 'v1.3.0',
    response_time_ms: 10,
    timestamp: '2026-11-29T10:00:00.000Z',
    features: {},
    ...over,
  });
}

describe('outcomeStoreSource', () => {
  it('returns the canary streams, production streams and the fold', async () => {
    const dir = store({
      '2026-11-29.jsonl': [line({ task_id: 'a', result: 'error', response_time_ms: 150 }), line({ task_id: 'b' }), line({ task_id: 'c', model_version: 'v1.2.0', result: 'failure' })].join('\n') + '\n',
    });
    const r = await outcomeStoreSource({ dir }).streams(request);
    expect(r.source).toBe('outcomes');
    expect({ S: r.S, E: r.E, Lup: r.Lup, Ldown: r.Ldown }).toEqual({ S: { n: 2, k: 1 }, E: { n: 2, k: 1 }, Lup: { n: 2, k: 1 }, Ldown: { n: 2, k: 0 } });
    expect(r.production!.S).toEqual({ n: 1, k: 1 });
    expect(r.aggregate!.hourly).toHaveLength(24);
    expect(r.warnings).toEqual([]);
  });

  it('skips and counts a torn last line, invalid lines, blank lines and CRLF endings', async () => {
    const warnings: OutcomeSourceWarning[] = [];
    const dir = store({
      'a.jsonl': `${line({ task_id: 'a' })}\r\n\n{"not json\n${line({ task_id: 'b', result: 'error' })}\n${line({ task_id: 'torn' }).slice(0, 40)}`,
      'b.jsonl': `${line({ task_id: 'c' })}\n`,
      'ignored.txt': `${line({ task_id: 'x' })}\n`,
    });
    const r = await outcomeStoreSource({ dir, onWarning: (w) => warnings.push(w) }).streams(request);
    expect(r.S).toEqual({ n: 3, k: 1 });
    expect(r.aggregate!.skipped).toMatchObject({ invalid: 1, torn: 1 });
    expect(warnings.map((w) => [w.file, w.reason])).toEqual([
      ['a.jsonl', 'invalid'],
      ['a.jsonl', 'torn'],
    ]);
    expect(r.warnings.join('\n')).toMatch(/1 store files end in a torn line/);
  });

  it('counts once per task_id across files, first file in name order wins', async () => {
    const dir = store({
      'b.jsonl': `${line({ task_id: 'same', result: 'success' })}\n`,
      'a.jsonl': `${line({ task_id: 'same', result: 'error' })}\n`,
    });
    const r = await outcomeStoreSource({ dir }).streams(request);
    expect(r.E).toEqual({ n: 1, k: 1 });
    expect(r.aggregate!.skipped.canary.duplicate).toBe(1);
  });

  it('ignores and counts outcomes from the future (clock skew)', async () => {
    const dir = store({ 'a.jsonl': `${line({ task_id: 'a', timestamp: '2026-12-01T00:00:00.000Z' })}\n${line({ task_id: 'b' })}\n` });
    const r = await outcomeStoreSource({ dir }).streams(request);
    expect(r.S.n).toBe(1);
    expect(r.aggregate!.skipped.canary.future).toBe(1);
    expect(r.warnings.join('\n')).toMatch(/1 outcomes are timestamped after 2026-11-30T09:00:00.000Z/);
  });

  it('skips over-long and non-UTF-8 lines without losing their neighbours', async () => {
    const long = line({ task_id: 'long', features: { blob: 'x'.repeat(70_000) } });
    const dir = store({ 'a.jsonl': `${line({ task_id: 'a' })}\n${long}\n${line({ task_id: 'b' })}\n` });
    writeFileSync(join(dir, '.mlops', 'outcomes', 'b.jsonl'), Buffer.concat([Buffer.from(`${line({ task_id: 'c' })}\n`), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from(`${line({ task_id: 'd' })}\n`)]));
    const warnings: OutcomeSourceWarning[] = [];
    const r = await outcomeStoreSource({ dir, onWarning: (w) => warnings.push(w) }).streams(request);
    expect(r.S.n).toBe(4);
    expect(warnings.map((w) => w.reason).sort()).toEqual(['not_utf8', 'too_long']);
  });

  it('reads lines that straddle its 1 MiB reads, and a huge torn tail', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) lines.push(line({ task_id: `t${i}`, result: i % 10 === 0 ? 'error' : 'success', features: { pad: 'p'.repeat(i % 200) } }));
    const dir = store({ 'a.jsonl': `${lines.join('\n')}\n${'{"task_id":"'.padEnd(200_000, 'z')}` });
    const r = await outcomeStoreSource({ dir }).streams(request);
    expect(r.E).toEqual({ n: 12_000, k: 1200 });
    expect(r.aggregate!.skipped).toMatchObject({ torn: 1, invalid: 0 });
  });

  it('gives the in-memory fold\'s answer on records written through the real collector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-outcomes-'));
    dirs.push(dir);
    const records = [
      ...simulateCanary({
        seed: 3,
        requestsPerHour: 400,
        hours: 24,
        startedAt: START,
        production: { version: 'v1.2.0', behaviour: { success_rate: 0.85, error_rate: 0.01, latency: { median_ms: 30, p95_ms: 90 } } },
        canary: { version: 'v1.3.0', weight: 0.1, behaviour: { success_rate: 0.75, error_rate: 0.08, latency: { median_ms: 60, p95_ms: 220 } } },
      }),
    ];
    const collector = getFeedbackCollector({ dir, durability: 'none', now: () => new Date(START) });
    await collector.appendOutcomes(records);
    await collector.close();
    // A second replica's shard with an overlapping task (it counts once).
    appendFileSync(join(dir, '.mlops', 'outcomes', 'zz-replica.jsonl'), `${line({ task_id: records[0]!.task_id, result: 'error' })}\n`);
    const r = await outcomeStoreSource({ dir }).streams(request);
    const expected = aggregateOutcomes(records, { ...request, bounds: { up: 100, down: 200 } });
    expect({ S: r.S, E: r.E, Lup: r.Lup, Ldown: r.Ldown }).toEqual(expected.canary);
    expect(r.production).toEqual(expected.production_streams);
    expect(r.S.n).toBeGreaterThan(700);
  });

  it('reads the canary alone through the version prefilter with the same counts as a full parse', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const v = i % 10 === 0 ? 'v1.3.0' : i % 10 === 1 ? 'v1.1.0' : 'v1.2.0';
      lines.push(line({ task_id: `t${i % 29_000}`, model_version: v, result: i % 7 === 0 ? 'error' : 'success', response_time_ms: i % 300, features: { pad: 'p'.repeat(i % 97), v: i % 13 === 0 ? 'v1.3.0' : 'x' } }));
      if (i % 5000 === 0) lines.push('{"broken', '', JSON.stringify({ model_version: 'v1.3.0', note: 'no other field' }));
    }
    const dir = store({ 'a.jsonl': `${lines.slice(0, 12_000).join('\n')}\n`, 'b.jsonl': `${lines.slice(12_000).join('\n')}\n{"task_id":"torn","model_version":"v1.3.0"` });
    const only = { ...request, production: null };
    const fast = await outcomeStoreSource({ dir }).streams(only);
    const full = await outcomeStoreSource({ dir, prefilter: false }).streams(only);
    expect({ S: fast.S, E: fast.E, Lup: fast.Lup, Ldown: fast.Ldown }).toEqual({ S: full.S, E: full.E, Lup: full.Lup, Ldown: full.Ldown });
    expect(fast.S.n).toBe(2900); // t0..t28999: the 100 repeats of t29000.. are duplicates
    expect(fast.aggregate!.skipped.canary).toEqual(full.aggregate!.skipped.canary);
    // The 6 lines that name the canary version but lack fields are invalid either way; the 6
    // broken lines without the version text are "other" under the prefilter.
    expect(fast.aggregate!.skipped.invalid).toBe(6);
    expect(full.aggregate!.skipped.invalid).toBe(12);
    expect(fast.aggregate!.skipped.torn).toBe(1);
    // Every line is accounted for: counted, skipped, invalid or other.
    const a = fast.aggregate!;
    const accounted = a.canary.S.n + a.skipped.canary.duplicate + a.skipped.canary.future + a.skipped.canary.before_start + a.skipped.invalid + a.other;
    expect(accounted).toBe(lines.length);
  });

  it('answers an empty store with zero counts, and a missing one too', async () => {
    const dir = store({});
    expect((await outcomeStoreSource({ dir }).streams(request)).S).toEqual({ n: 0, k: 0 });
    const nothing = mkdtempSync(join(tmpdir(), 'mlops-outcomes-'));
    dirs.push(nothing);
    expect((await outcomeStoreSource({ dir: nothing }).streams(request)).E).toEqual({ n: 0, k: 0 });
  });

  it.skipIf(process.getuid?.() === 0)('fails with METRICS_SOURCE_FAILED when the store cannot be read', async () => {
    const dir = store({ 'a.jsonl': `${line({})}\n` });
    chmodSync(join(dir, '.mlops', 'outcomes', 'a.jsonl'), 0);
    await expect(outcomeStoreSource({ dir }).streams(request)).rejects.toMatchObject({ code: 'METRICS_SOURCE_FAILED' });
  });

  it('fails with METRICS_SOURCE_FAILED when a store file is a directory', async () => {
    const dir = store({});
    mkdirSync(join(dir, '.mlops', 'outcomes', 'weird.jsonl'));
    await expect(outcomeStoreSource({ dir }).streams(request)).rejects.toMatchObject({ code: 'METRICS_SOURCE_FAILED' });
  });
});
