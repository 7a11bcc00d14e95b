import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { BUCKETS, bucketOf, canaryBuckets, route, routeKey, routingKeyOf } from '../../src/canary/route.js';

const vectorsFile = new URL('../../clients/vectors/routing.json', import.meta.url);

interface Vector {
  model: string;
  canary_version: string;
  weight: number;
  key: string;
  bucket: number;
  threshold: number;
  route: 'canary' | 'production';
}

describe('routing test vectors (clients/vectors/routing.json)', () => {
  const doc = JSON.parse(readFileSync(vectorsFile, 'utf8')) as { vectors: Vector[] };

  it('has the edge cases the clients must agree on', () => {
    expect(doc.vectors.length).toBeGreaterThan(50);
    const weights = new Set(doc.vectors.map((v) => v.weight));
    for (const w of [0, 1, 0.00005, 0.12345]) expect(weights.has(w)).toBe(true);
    expect(doc.vectors.some((v) => /[^\x00-\x7f]/.test(v.key))).toBe(true);
    // Half-way products round up: this is where Python's round() (half to even) would differ.
    expect(doc.vectors.find((v) => v.weight === 0.00005)!.threshold).toBe(1);
    expect(doc.vectors.find((v) => v.weight === 0.12345)!.threshold).toBe(1235);
  });

  const cases: Array<[number, Vector]> = doc.vectors.map((v, i) => [i, v]);
  it.each(cases)(
    'vector %i recomputes',
    (_i, vec) => {
      expect(bucketOf({ model: vec.model, canaryVersion: vec.canary_version, key: vec.key })).toBe(vec.bucket);
      expect(canaryBuckets(vec.weight)).toBe(vec.threshold);
      expect(routeKey({ model: vec.model, canaryVersion: vec.canary_version, weight: vec.weight, key: vec.key })).toBe(vec.route);
    },
  );

  it('is what the generator script writes (regenerate with node scripts/make-route-vectors.mjs)', () => {
    const out = execFileSync(process.execPath, ['scripts/make-route-vectors.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/up to date/);
  });
});

describe('bucketOf', () => {
  it('is the SPEC formula over UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.constantFrom('v1.0.0', 'v1.3.0'), (key, version) => {
        const h = createHash('sha256').update(Buffer.from(`m:${version}:${key}`, 'utf8')).digest();
        expect(bucketOf({ model: 'm', canaryVersion: version, key })).toBe(h.readUInt32BE(0) % BUCKETS);
      }),
    );
  });
});

describe('routeKey', () => {
  const key = fc.string({ unit: 'binary', maxLength: 40 });

  it('raising the weight only moves keys from production to canary', () => {
    fc.assert(
      fc.property(key, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (k, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const args = { model: 'backlink-success', canaryVersion: 'v1.3.0', key: k };
        if (routeKey({ ...args, weight: lo }) === 'canary') expect(routeKey({ ...args, weight: hi })).toBe('canary');
      }),
      { numRuns: 2000 },
    );
  });

  it('weight 0 never and weight 1 always routes to the canary', () => {
    fc.assert(
      fc.property(key, (k) => {
        expect(routeKey({ model: 'm', canaryVersion: 'v1.0.0', weight: 0, key: k })).toBe('production');
        expect(routeKey({ model: 'm', canaryVersion: 'v1.0.0', weight: 1, key: k })).toBe('canary');
      }),
    );
  });

  it('sends a share within 1 pp of the weight over 50,000 random keys', () => {
    // The 1,000,000-key, 0.5 pp check is the benchmark (bench/route-speed.mjs); at 50,000
    // keys the standard error is 0.13 pp at weight 0.1, so 1 pp is a 7-sigma bound.
    fc.assert(
      fc.property(fc.constantFrom(0.01, 0.1, 0.25, 0.5, 0.9), fc.integer(), (weight, seed) => {
        let canary = 0;
        const n = 50_000;
        for (let i = 0; i < n; i++) if (routeKey({ model: 'm', canaryVersion: 'v1.0.0', weight, key: `${seed}-${i}` }) === 'canary') canary++;
        expect(Math.abs(canary / n - weight)).toBeLessThan(0.01);
      }),
      { numRuns: 5 },
    );
  });

  it.each([[-0.1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY]])('rejects weight %s', (w) => {
    expect(() => routeKey({ model: 'm', canaryVersion: 'v1.0.0', weight: w, key: 'k' })).toThrow(
      expect.objectContaining({ code: 'CANARY_WEIGHT_INVALID' }),
    );
  });
});

describe('route', () => {
  const deployments = { model: 'backlink-success', production: 'v1.2.0', canary: { version: 'v1.3.0', weight: 0.1, started_at: '2026-11-29T09:12:00Z' } };

  it('routes with the canary bucket and names the serving version', () => {
    const doc = JSON.parse(readFileSync(vectorsFile, 'utf8')) as { vectors: Vector[] };
    for (const v of doc.vectors.filter((x) => x.model === 'backlink-success' && x.canary_version === 'v1.3.0' && x.weight === 0.1)) {
      const r = route(deployments, v.key);
      expect(r).toEqual({ version: v.route === 'canary' ? 'v1.3.0' : 'v1.2.0', route: v.route, bucket: v.bucket });
    }
  });

  it('serves production to every key when no canary runs', () => {
    expect(route({ ...deployments, canary: null }, 'example.org')).toEqual({ version: 'v1.2.0', route: 'production', bucket: null });
  });

  it('lets a lone canary serve every key', () => {
    const doc = JSON.parse(readFileSync(vectorsFile, 'utf8')) as { vectors: Array<Vector & { note?: string }> };
    const key = doc.vectors.find((v) => v.note === 'bucket 1000')!.key; // production's share at 10%
    expect(route(deployments, key).route).toBe('production');
    expect(route({ ...deployments, production: null }, key)).toEqual({ version: 'v1.3.0', route: 'canary', bucket: 1000 });
  });

  it('fails with a code when no version serves', () => {
    expect(() => route({ model: 'm', production: null, canary: null }, 'k')).toThrow(expect.objectContaining({ code: 'NO_PRODUCTION' }));
  });
});

describe('routingKeyOf', () => {
  it.each([
    [{ key: 'k', domain: 'd', task_id: 't' }, 'k'],
    [{ domain: 'd', task_id: 't' }, 'd'],
    [{ key: '', domain: '', task_id: 't' }, 't'],
    [{ key: 5, domain: 'd' }, 'd'],
  ])('%o -> %s', (record, expected) => {
    expect(routingKeyOf(record)).toBe(expected);
  });

  it('fails with a code when there is no key at all', () => {
    expect(() => routingKeyOf({})).toThrow(expect.objectContaining({ code: 'ROUTING_KEY_MISSING' }));
  });
});
