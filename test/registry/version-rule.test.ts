import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { nextVersion, inferBump, canonicalJson } from '../../src/registry/version-rule.js';
import { bumpVersion, compareVersions, parseVersion, isVersion, parseRegistrationTag } from '../../src/registry/semver.js';
import type { ManifestDoc } from '../../src/registry/types.js';

const parent = {
  schema: { version: 'schema_v1.0', sha256: 'a'.repeat(64) },
  dataset: { name: 'd', sha256: 'b'.repeat(64), rows: 1, shards: 1 },
  training: { trainer: 'gbdt', params: { trees: 200, depth: 6 }, seed: 42, tool_version: '0' },
} as unknown as ManifestDoc;

describe('version rule (SPEC 3.6)', () => {
  it.each([
    ['schema changed', { schemaVersion: 'schema_v2.0', datasetSha256: 'b'.repeat(64), params: { trees: 200, depth: 6 } }, 'major'],
    ['dataset changed', { schemaVersion: 'schema_v1.0', datasetSha256: 'c'.repeat(64), params: { trees: 200, depth: 6 } }, 'minor'],
    ['params changed', { schemaVersion: 'schema_v1.0', datasetSha256: 'b'.repeat(64), params: { trees: 300, depth: 6 } }, 'minor'],
    ['params reordered only', { schemaVersion: 'schema_v1.0', datasetSha256: 'b'.repeat(64), params: { depth: 6, trees: 200 } }, 'patch'],
    ['nothing changed', { schemaVersion: 'schema_v1.0', datasetSha256: 'b'.repeat(64), params: { trees: 200, depth: 6 } }, 'patch'],
  ] as const)('%s -> %s', (_name, req, bump) => {
    expect(inferBump(parent, req)).toBe(bump);
  });

  it('starts at v1.0.0 and bumps from the greatest existing version, tags included', () => {
    const base = { parent, schemaVersion: 'schema_v1.0', datasetSha256: 'c'.repeat(64), params: {} };
    expect(nextVersion({ ...base, existing: [] }).version).toBe('v1.0.0');
    expect(nextVersion({ ...base, existing: ['v1.0.0', 'v1.2.0', 'v1.10.0', 'v1.9.3'] }).version).toBe('v1.11.0');
    expect(nextVersion({ ...base, existing: ['v1.0.0'], bump: 'major' }).version).toBe('v2.0.0');
  });

  it('refuses an explicit version that exists or is not greater', () => {
    const base = { parent, schemaVersion: 'schema_v1.0', datasetSha256: 'c'.repeat(64), params: {}, existing: ['v1.0.0', 'v1.3.0'] };
    expect(() => nextVersion({ ...base, explicit: 'v1.3.0' })).toThrow(expect.objectContaining({ code: 'VERSION_EXISTS' }));
    expect(() => nextVersion({ ...base, explicit: 'v1.2.9' })).toThrow(expect.objectContaining({ code: 'VERSION_NOT_GREATER' }));
    expect(() => nextVersion({ ...base, explicit: '1.4.0' })).toThrow(expect.objectContaining({ code: 'VERSION_INVALID' }));
    expect(nextVersion({ ...base, explicit: 'v2.0.0' }).version).toBe('v2.0.0');
  });

  it('property: the next version is always greater than every existing one and never reused', () => {
    const ver = fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map(([a, b, c]) => `v${a}.${b}.${c}`);
    fc.assert(
      fc.property(fc.array(ver, { maxLength: 30 }), fc.constantFrom('major', 'minor', 'patch'), (existing, bump) => {
        const { version } = nextVersion({ existing, parent: null, schemaVersion: 's', datasetSha256: 'x', params: {}, bump: bump as 'major' });
        expect(existing).not.toContain(version);
        for (const e of existing) expect(compareVersions(version, e)).toBeGreaterThan(0);
      }),
    );
  });

  it('parses only v-prefixed MAJOR.MINOR.PATCH', () => {
    for (const bad of ['1.0.0', 'v1.0', 'v01.0.0', 'v1.0.0-rc.1', 'v1.0.0+build', 'V1.0.0', 'v1.0.0 ']) expect(isVersion(bad)).toBe(false);
    expect(parseVersion('v10.20.30')).toEqual([10, 20, 30]);
    expect(bumpVersion('v1.2.3', 'patch')).toBe('v1.2.4');
    expect(parseRegistrationTag('backlink-success@v1.3.0')).toEqual({ model: 'backlink-success', version: 'v1.3.0' });
    expect(parseRegistrationTag('Backlink@v1.3.0')).toBeNull();
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
  });
});
