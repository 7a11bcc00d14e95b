import { describe, expect, it } from 'vitest';
import { normalizeOutcome, checkOutcome, normalizeTimestamp, outcomeToJson } from '../../src/data/outcome.js';

const base = {
  task_id: 't-81723',
  domain: 'Example.org',
  url: 'https://example.org/blog/x',
  action_attempted: 'blog_comment',
  result: 'success',
  failure_reason: null,
  execution_time: 12.4,
  model: 'backlink-success',
  model_version: 'v1.2.0',
  response_time_ms: 3.1,
  timestamp: '2026-11-26T10:00:00Z',
  features: { z: 1, a: 'x' },
};

describe('normalizeOutcome', () => {
  it('normalizes the SPEC example: lower-case domain, UTC milliseconds, sorted features', () => {
    const r = normalizeOutcome(base);
    expect(r).toEqual({ ...base, domain: 'example.org', timestamp: '2026-11-26T10:00:00.000Z', features: { a: 'x', z: 1 } });
    expect(Object.keys(r.features)).toEqual(['a', 'z']);
  });

  it('fills absent optional fields with null and features with {}', () => {
    const r = normalizeOutcome({ task_id: 't', domain: 'a.org', action_attempted: 'x', result: 'error', timestamp: '2026-01-01T00:00:00+02:00' });
    expect(r).toMatchObject({ url: null, failure_reason: null, execution_time: null, model: null, model_version: null, response_time_ms: null, features: {} });
    expect(r.timestamp).toBe('2025-12-31T22:00:00.000Z');
  });

  it.each([
    [true, 'success'],
    [false, 'failure'],
    ['error', 'error'],
  ])('reads result %j as %s', (result, expected) => {
    expect(normalizeOutcome({ ...base, result }).result).toBe(expected);
  });

  it.each([
    [{ task_id: undefined }, '/task_id'],
    [{ task_id: '' }, '/task_id'],
    [{ domain: 42 }, '/domain'],
    [{ result: 'ok' }, '/result'],
    [{ result: 1 }, '/result'],
    [{ timestamp: '2026-11-26 10:00' }, '/timestamp'],
    [{ timestamp: '2026-11-26T10:00:00' }, '/timestamp'],
    [{ timestamp: '2026-02-30T10:00:00Z' }, '/timestamp'],
    [{ execution_time: -1 }, '/execution_time'],
    [{ execution_time: '12' }, '/execution_time'],
    [{ response_time_ms: Number.NaN }, '/response_time_ms'],
    [{ features: { 'bad key': 1 } }, '/features'],
    [{ features: { a: { nested: true } } }, '/features/a'],
    [{ features: { a: Number.POSITIVE_INFINITY } }, '/features/a'],
    [{ extra: 1 }, 'unknown key "extra"'],
    [{ task_id: 'a\u0000b' }, '/task_id'],
    [{ task_id: 'lone \ud800 surrogate' }, '/task_id'],
    [{ failure_reason: 'x'.repeat(5000) }, '/failure_reason'],
  ])('rejects %j naming %s', (over, field) => {
    const raw = { ...base, ...over } as Record<string, unknown>;
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete raw[k];
    let err: unknown;
    try {
      normalizeOutcome(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'OUTCOME_INVALID' });
    expect((err as Error).message).toContain(field);
  });

  it('rejects non-objects', () => {
    for (const raw of [null, 42, 'x', [], undefined]) expect(checkOutcome(raw).ok).toBe(false);
  });

  it('accepts tabs and line breaks in failure_reason only', () => {
    expect(normalizeOutcome({ ...base, failure_reason: 'line1\nline2\tx' }).failure_reason).toBe('line1\nline2\tx');
    expect(checkOutcome({ ...base, action_attempted: 'a\nb' }).ok).toBe(false);
  });

  it('builds records whose plain JSON is the canonical JSON (the collector relies on it)', () => {
    const r = normalizeOutcome({ ...base, features: { z: 1, a: 2, m: null } });
    expect(JSON.stringify(r)).toBe(outcomeToJson(r));
  });

  it('writes JSON with a fixed key order whatever the input order', () => {
    const a = outcomeToJson(normalizeOutcome(base));
    const b = outcomeToJson(normalizeOutcome(Object.fromEntries(Object.entries(base).reverse())));
    expect(a).toBe(b);
    expect(a.startsWith('{"task_id":"t-81723","domain":"example.org"')).toBe(true);
  });
});

describe('normalizeTimestamp', () => {
  it.each([
    ['2026-11-26T10:00:00Z', '2026-11-26T10:00:00.000Z'],
    ['2026-11-26t10:00:00.123456z', '2026-11-26T10:00:00.123Z'],
    ['2026-11-26T10:00:00.5-01:30', '2026-11-26T11:30:00.500Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2023-02-29T00:00:00Z', null],
    ['2026-13-01T00:00:00Z', null],
    ['2026-11-26T24:00:00Z', null],
    ['0000-01-01T00:00:00Z', null],
    ['9999-12-31T23:59:59-01:00', null],
    ['yesterday', null],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeTimestamp(input)).toBe(expected);
  });
});
