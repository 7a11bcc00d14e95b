import { describe, expect, it } from 'vitest';
import {
  featureNames,
  featurize,
  featurizeMany,
  fitFeaturizer,
  hostOf,
  parseFeatureSchema,
  parseFittedState,
  pathDepth,
  serializeFittedState,
  starterFeatureSchema,
  subdomainDepth,
  tldOf,
  labelsOf,
} from '../../src/data/features.js';
import { normalizeOutcome, type OutcomeRecord } from '../../src/data/outcome.js';
import { outcomeToRow, rowToOutcome } from '../../src/data/shard.js';
import { splitOf } from '../../src/data/split.js';
import { synthOutcomes } from '../../src/data/synth.js';

const schemaText = (features: string) => `apiVersion: mlops/v1
kind: FeatureSchema
version: schema_test
label: { field: result }
features:
${features}`;

describe('feature schema', () => {
  it('parses the starter schema, whose columns are named in order', () => {
    const s = parseFeatureSchema(starterFeatureSchema(), 'registry/schemas/schema_v1.0.yaml');
    expect(s.version).toBe('schema_v1.0');
    const names = featureNames(s);
    expect(names[0]).toBe('domain_rate');
    expect(names).toContain('action=guest_post');
    expect(names).toContain('action=__unknown__');
    expect(names).toContain('tld=co.uk');
    expect(names.at(-1)).toBe('weekday');
    expect(parseFeatureSchema(starterFeatureSchema('schema_v2.0')).version).toBe('schema_v2.0');
  });

  it.each([
    ['execution_time as an input', '  - { name: t, source: execution_time, transform: numeric }', 'cannot be a model input: it is an outcome'],
    ['failure_reason as an input', '  - { name: r, source: failure_reason, transform: one_hot, categories: [x] }', 'cannot be a model input'],
    ['the label as an input', '  - { name: r, source: result, transform: one_hot, categories: [success] }', 'is the label'],
    ['an unknown transform', '  - { name: x, source: domain, transform: magic }', 'must be one of'],
    ['an unknown source', '  - { name: x, source: color, transform: one_hot, categories: [a] }', '/features/0/source'],
    ['one_hot without categories', '  - { name: x, source: domain, transform: one_hot }', 'missing required key "categories"'],
    ['hashed_bucket without buckets', '  - { name: x, source: domain, transform: hashed_bucket }', 'missing required key "buckets"'],
    ['an option of another transform', '  - { name: x, source: features.a, transform: numeric, buckets: 4 }', '"buckets" does not apply to transform numeric'],
    ['a numeric transform on text', '  - { name: x, source: domain, transform: numeric }', 'needs a numeric source'],
    ['hour of a domain', '  - { name: x, source: domain, transform: hour }', 'source must be timestamp'],
    ['a name used twice', '  - { name: x, source: features.a, transform: numeric }\n  - { name: x, source: features.b, transform: numeric }', 'used twice'],
    ['a bad name', '  - { name: X-1, source: features.a, transform: numeric }', '/features/0/name'],
    ['an unknown key', '  - { name: x, source: features.a, transform: numeric, colour: red }', 'unknown key "colour"'],
    ['clip upside down', '  - { name: x, source: features.a, transform: numeric, clip: [5, 1] }', 'low <= high'],
  ])('refuses %s with FEATURE_SCHEMA_INVALID', (_, features, message) => {
    expect(() => parseFeatureSchema(schemaText(features), 's.yaml')).toThrow(expect.objectContaining({ code: 'FEATURE_SCHEMA_INVALID', message: expect.stringContaining(message) }));
  });

  it('lists every problem at once with its line', () => {
    let err: { message: string; data?: { problems: Array<{ line?: number }> } } | undefined;
    try {
      parseFeatureSchema(schemaText('  - { name: a, source: execution_time, transform: numeric }\n  - { name: b, source: failure_reason, transform: numeric }'), 's.yaml');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err!.data!.problems.length).toBeGreaterThanOrEqual(2);
    expect(err!.data!.problems[0]!.line).toBe(6);
  });

  it('refuses a YAML alias bomb', () => {
    const bomb = 'a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n';
    expect(() => parseFeatureSchema(bomb)).toThrow(expect.objectContaining({ code: 'YAML_ALIAS_LIMIT' }));
  });
});

describe('domain and URL helpers', () => {
  it.each([
    ['https://User@Blog.Example.co.uk:8080/a/b/?q=1#x', 'blog.example.co.uk', 'co.uk', 1, 2],
    ['example.org', 'example.org', 'org', 0, 0],
    ['www.example.org', 'www.example.org', 'org', 0, 0],
    ['a.b.c.example.com/', 'a.b.c.example.com', 'com', 3, 0],
    ['http://10.0.0.1/x', '10.0.0.1', null, 0, 1],
    ['localhost', 'localhost', null, 0, 0],
  ])('%s', (input, host, tld, depth, path) => {
    expect(hostOf(input)).toBe(host);
    expect(tldOf(host)).toBe(tld);
    expect(subdomainDepth(host)).toBe(depth);
    expect(pathDepth(input)).toBe(path);
  });
});

describe('featurizer', () => {
  const schema = parseFeatureSchema(
    schemaText(`  - { name: dom, source: domain, transform: hashed_bucket, buckets: 16 }
  - { name: action, source: action_attempted, transform: one_hot, categories: [a, b] }
  - { name: action_u, source: action_attempted, transform: one_hot, categories: [a, b], unknown: column }
  - { name: rate, source: domain, transform: target_rate, smoothing: 2 }
  - { name: da, source: features.da, transform: numeric, missing: -1, clip: [0, 100] }
  - { name: da_z, source: features.da, transform: numeric, scale: standard }
  - { name: links, source: features.links, transform: log1p }
  - { name: dofollow, source: features.dofollow, transform: boolean }
  - { name: tld, source: url, transform: tld, categories: [org, com] }
  - { name: sub, source: domain, transform: subdomain_depth }
  - { name: path, source: url, transform: path_depth }
  - { name: https, source: url, transform: https }
  - { name: hour, source: timestamp, transform: hour }
  - { name: wd, source: timestamp, transform: weekday, encoding: cyclic }`),
  );
  const mk = (task_id: string, over: Record<string, unknown> = {}) =>
    normalizeOutcome({ task_id, domain: 'example.org', url: 'https://www.example.org/a/b', action_attempted: 'a', result: 'success', timestamp: '2026-11-26T10:00:00Z', ...over });

  it('computes each transform as documented', () => {
    const r = mk('t-0', { features: { da: 250, links: Math.E - 1, dofollow: 'yes' } });
    const state = fitFeaturizer(schema, [r], { trainSplitOnly: false });
    const v = featurize(schema, state, r);
    const names = featureNames(schema, state);
    const at = (n: string) => v[names.indexOf(n)];
    expect(names).toHaveLength(v.length);
    expect(at('dom#3')).toBe(1); // Python: sha256("dom:example.org")[:4] % 16 == 3
    expect([...names.keys()].filter((i) => names[i]!.startsWith('dom#') && v[i] === 1)).toHaveLength(1);
    expect([at('action=a'), at('action=b')]).toEqual([1, 0]);
    expect(at('da')).toBe(100); // clipped
    expect(at('links')).toBeCloseTo(1, 6);
    expect(at('dofollow')).toBe(1);
    expect([at('tld=org'), at('tld=com')]).toEqual([1, 0]);
    expect(at('sub')).toBe(0);
    expect(at('path')).toBe(2);
    expect(at('https')).toBe(1);
    expect(at('hour')).toBe(10);
    expect(at('wd_sin')).toBeCloseTo(Math.sin((2 * Math.PI * 3) / 7), 6); // 2026-11-26 is a Thursday (3)
  });

  it('handles unknown categories and missing sources by the documented rules', () => {
    const train = [mk('t-0'), mk('t-1', { action_attempted: 'b' })];
    const state = fitFeaturizer(schema, train, { trainSplitOnly: false });
    const names = featureNames(schema);
    const v = featurize(schema, state, { domain: 'new.example.net', action_attempted: 'zzz', timestamp: 'not a time' });
    const at = (n: string) => v[names.indexOf(n)];
    expect([at('action=a'), at('action=b')]).toEqual([0, 0]); // unknown: zeros
    expect([at('action_u=a'), at('action_u=b'), at('action_u=__unknown__')]).toEqual([0, 0, 1]);
    expect(at('rate')).toBeCloseTo(state.features.rate!.kind === 'target_rate' ? state.features.rate!.prior : NaN, 6); // unseen -> prior
    expect(at('da')).toBe(-1); // missing value
    expect(at('https')).toBe(0);
    expect([at('wd_sin'), at('wd_cos'), at('hour')]).toEqual([0, 0, 0]);
  });

  it('fits target rates on the training split only', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `t-${i}`);
    // Every non-training record is a failure on domain x.org; training records all succeed.
    const records = ids.map((id) => mk(id, { domain: 'x.org', result: splitOf(id) === 'train' ? 'success' : 'failure' }));
    const state = fitFeaturizer(schema, records);
    const rate = state.features.rate!;
    expect(rate.kind).toBe('target_rate');
    if (rate.kind === 'target_rate') {
      expect(rate.prior).toBe(1);
      expect(rate.rates['x.org']).toBe(1);
    }
    expect(state.fitted_on.rows).toBe(ids.filter((id) => splitOf(id) === 'train').length);
  });

  it('is the same in training and serving: JSON state, raw request, shard round trip', () => {
    const data = synthOutcomes({ seed: 7, rows: 500, start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' });
    const starter = parseFeatureSchema(starterFeatureSchema());
    const state = fitFeaturizer(starter, data);
    const { X, n, f } = featurizeMany(starter, state, data);
    expect([n, f]).toEqual([500, featureNames(starter).length]);
    const served = parseFittedState(serializeFittedState(state), starter);
    for (let i = 0; i < n; i += 37) {
      const r = data[i]!;
      // What a client sends to serve: no outcome fields at all.
      const request = { domain: r.domain, url: r.url, action_attempted: r.action_attempted, timestamp: r.timestamp, features: r.features };
      const fromRequest = featurize(starter, served, request);
      const fromShard = featurize(starter, served, rowToOutcome(outcomeToRow(r)));
      expect(Array.from(fromRequest)).toEqual(Array.from(X.subarray(i * f, (i + 1) * f)));
      expect(Array.from(fromShard)).toEqual(Array.from(fromRequest));
    }
    expect(serializeFittedState(fitFeaturizer(starter, [...data].reverse()))).toBe(serializeFittedState(state));
    expect(Array.from(labelsOf(starter, data.slice(0, 3)))).toEqual(data.slice(0, 3).map((r: OutcomeRecord) => (r.result === 'success' ? 1 : 0)));
  });

  it('refuses a state of another schema and a missing required source', () => {
    const other = parseFeatureSchema(schemaText('  - { name: da, source: features.da, transform: numeric, required: true }'));
    const state = fitFeaturizer(schema, [mk('t-0')]);
    expect(() => featurize(other, state, mk('t-0'))).toThrow(expect.objectContaining({ code: 'FEATURE_STATE_INVALID' }));
    const own = fitFeaturizer(other, [mk('t-0')]);
    expect(() => featurize(other, own, mk('t-0'))).toThrow(expect.objectContaining({ code: 'FEATURE_MISSING' }));
    expect(featurize(other, own, mk('t-0', { features: { da: 3 } }))[0]).toBe(3);
    expect(() => parseFittedState('{"kind":"Nope"}')).toThrow(expect.objectContaining({ code: 'FEATURE_STATE_INVALID' }));
  });
});
