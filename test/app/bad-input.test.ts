// The registry's bad-input corpus: each broken file or forbidden request is refused with a code,
// the file path and a hint, exit status 1, and the repository is left exactly as it was.
import { describe, it, expect } from 'vitest';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, registryRepo, registerFake, readDeployments } from '../helpers/registry.js';
import type { TestRepo } from '../helpers/gitdir.js';

const M = 'backlink-success';
const manifest = `registry/${M}/versions/v1.0.1/manifest.yaml`;
const deployments = `registry/${M}/deployments.yaml`;

async function base(): Promise<TestRepo> {
  const t = registryRepo();
  await registerFake(t.dir, { seed: 'a' });
  await cli(t.dir, 'promote', `${M}@v1.0.0`);
  return t;
}

/** Production v1.0.0 and a staging v1.0.1 whose files the corpus breaks. */
async function withStaging(): Promise<TestRepo> {
  const t = await base();
  await registerFake(t.dir, { seed: 'b' });
  return t;
}
const staged = `registry/${M}/versions/v1.0.1`;

function snapshot(t: TestRepo) {
  return { head: t.head(), tags: t.tags().join(','), status: t.status(), refs: t.git('for-each-ref', '--format=%(refname) %(objectname)') };
}

/** Hand edits committed to the repository, then `mlops verify` must name them. */
const corpus: Array<[string, (t: TestRepo) => void, string, string]> = [
  ['malformed YAML', (t) => t.commit('edit', { [manifest]: 'apiVersion: mlops/v1\nkind: [unclosed\n' }), 'YAML_PARSE_ERROR', manifest],
  ['duplicate keys', (t) => t.commit('edit', { [deployments]: readDeployments(t.dir) + 'production: v1.0.0\n' }), 'YAML_PARSE_ERROR', deployments],
  ['alias bomb', (t) => t.commit('edit', { [manifest]: 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n' }), 'YAML_ALIAS_LIMIT', manifest],
  ['unknown key', (t) => t.commit('edit', { [deployments]: readDeployments(t.dir).replace('kind: Deployments', 'kind: Deployments\nstaging: v1.0.0') }), 'DEPLOYMENTS_INVALID', deployments],
  ['bad semver pointer', (t) => t.commit('edit', { [deployments]: readDeployments(t.dir).replace('production: v1.0.0', 'production: 1.0') }), 'DEPLOYMENTS_INVALID', deployments],
  ['pointer to a missing version', (t) => t.commit('edit', { [deployments]: readDeployments(t.dir).replace('production: v1.0.0', 'production: v9.0.0') }), 'POINTER_TO_MISSING_VERSION', deployments],
  ['folder name differs from manifest', (t) => { t.git('mv', staged, `registry/${M}/versions/v1.0.7`); t.commit('mv'); }, 'VERSION_FOLDER_MISMATCH', `registry/${M}/versions/v1.0.7/manifest.yaml`],
  ['artifact path leaving its folder', (t) => t.commit('edit', { [manifest]: t.git('show', `HEAD:${manifest}`).replace('path: model.onnx', 'path: ../../../etc/passwd') }), 'MANIFEST_INVALID', manifest],
  ['absolute artifact path', (t) => t.commit('edit', { [manifest]: t.git('show', `HEAD:${manifest}`).replace('path: model.onnx', 'path: /etc/passwd') }), 'MANIFEST_INVALID', manifest],
  ['artifact symlink out of its folder', (t) => { const p = join(t.dir, `${staged}/model.onnx`); t.git('rm', '-q', `${staged}/model.onnx`); symlinkSync('/etc/hostname', p); t.commit('link'); }, 'ARTIFACT_PATH_ESCAPES', `${staged}/model.onnx`],
  ['artifact hash mismatch', (t) => t.commit('edit', { [`${staged}/model.onnx`]: 'tampered' }), 'ARTIFACT_HASH_MISMATCH', `${staged}/model.onnx`],
  ['schema edited after use', (t) => t.commit('edit', { 'registry/schemas/schema_v1.0.yaml': 'changed: true\n' }), 'SCHEMA_HASH_MISMATCH', 'registry/schemas/schema_v1.0.yaml'],
  ['not UTF-8', (t) => t.commit('edit', { [deployments]: Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]) }), 'ENCODING_INVALID', deployments],
];

describe('bad input: verify names each broken file', () => {
  it.each(corpus)('%s -> %s', async (_name, breakIt, code, path) => {
    const t = await withStaging();
    breakIt(t);
    const r = await cli(t.dir, 'verify', '--json');
    expect(r.code).toBe(1);
    const problems = r.json().problems as Array<{ code: string; path: string }>;
    expect(problems).toContainEqual(expect.objectContaining({ code, path }));
    // and a state change on top of a broken registry is refused without touching anything
    const before = snapshot(t);
    const reg = await cli(t.dir, 'canary', 'start', `${M}@v1.0.1`, '--json');
    expect(reg.code).toBe(1);
    expect(JSON.parse(reg.stderr).error).toHaveProperty('hint');
    expect(snapshot(t)).toEqual(before);
  });

  it('text output lists code, path and hint on stderr', async () => {
    const t = await base();
    t.commit('edit', { [deployments]: readDeployments(t.dir).replace('production: v1.0.0', 'production: v9.0.0') });
    const r = await cli(t.dir, 'verify');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[POINTER_TO_MISSING_VERSION\] registry\/backlink-success\/deployments\.yaml: production points to v9\.0\.0/);
    expect(r.stderr).toMatch(/hint/);
  });

  it('a deprecated version may not be pointed to', async () => {
    const t = await base();
    await registerFake(t.dir, { seed: 'b' });
    await cli(t.dir, 'deprecate', `${M}@v1.0.1`, '--reason', 'bad');
    t.commit('edit', { [deployments]: readDeployments(t.dir).replace('canary: null', 'canary:\n  version: v1.0.1\n  weight: 0.1\n  started_at: 2026-11-29T00:00:00Z') });
    const problems = (await cli(t.dir, 'verify', '--json')).json().problems;
    expect(problems).toContainEqual(expect.objectContaining({ code: 'POINTER_TO_INACTIVE_VERSION', path: deployments }));
  });
});

describe('bad input: refused requests leave the repository exactly as it was', () => {
  const cases: Array<[string, (t: TestRepo) => void | Promise<void>, string[], string]> = [
    ['uncommitted changes under registry/', (t) => writeFileSync(join(t.dir, deployments), readDeployments(t.dir) + '# edit\n'), ['canary', 'start', `${M}@v1.0.1`], 'DIRTY_REGISTRY'],
    ['an untracked file under registry/', (t) => writeFileSync(join(t.dir, `registry/${M}/notes.txt`), 'x'), ['deprecate', `${M}@v1.0.1`, '--reason', 'x'], 'DIRTY_REGISTRY'],
    ['a detached HEAD', (t) => { t.git('checkout', '-q', '--detach'); }, ['canary', 'start', `${M}@v1.0.1`], 'DETACHED_HEAD'],
    ['a version that already exists', () => undefined, ['register', '--model', M, '--artifact', 'data/train.csv', '--dataset', 'data/train.csv', '--version', 'v1.0.1'], 'VERSION_EXISTS'],
    ['a version not greater than existing', () => undefined, ['register', '--model', M, '--artifact', 'data/train.csv', '--dataset', 'data/train.csv', '--version', 'v1.0.0'], 'VERSION_EXISTS'],
    ['bad semver', () => undefined, ['register', '--model', M, '--artifact', 'data/train.csv', '--dataset', 'data/train.csv', '--version', '2.0'], 'VERSION_INVALID'],
    ['a missing artifact', () => undefined, ['register', '--model', M, '--artifact', 'nope.onnx', '--dataset', 'data/train.csv'], 'ARTIFACT_NOT_FOUND'],
    ['a missing dataset', () => undefined, ['register', '--model', M, '--artifact', 'data/train.csv', '--dataset', 'no-such-dataset'], 'DATASET_NOT_FOUND'],
    ['a missing schema', () => undefined, ['register', '--model', M, '--artifact', 'data/train.csv', '--dataset', 'data/train.csv', '--schema', 'schema_v9'], 'SCHEMA_NOT_FOUND'],
    ['an unknown model', () => undefined, ['promote', 'other-model@v1.0.0'], 'MODEL_NOT_FOUND'],
    ['promoting a deprecated version', async (t) => { await cli(t.dir, 'deprecate', `${M}@v1.0.1`, '--reason', 'x'); }, ['promote', `${M}@v1.0.1`, '--force'], 'VERSION_NOT_ACTIVE'],
  ];
  it.each(cases)('%s -> %s', async (_name, setup, argv, code) => {
    const t = await base();
    await registerFake(t.dir, { seed: 'b' });
    await setup(t);
    const before = snapshot(t);
    const r = await cli(t.dir, ...argv, '--json');
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stderr).error;
    expect(err.code).toBe(code);
    expect(err.hint).toBeTruthy();
    expect(snapshot(t)).toEqual(before);
  });

  it('usage errors exit 2 with a JSON error', async () => {
    const t = await base();
    const malformed = await cli(t.dir, 'promote', 'backlink-success-v1', '--json');
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.stderr).error.code).toBe('INVALID_ARGUMENT');
    const r = await cli(t.dir, 'promote', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim().split('\n').pop()!).error.code).toBe('USAGE');
    const cfg = registryRepo({ config: { canary: { percentage: 2 } } });
    const c = await cli(cfg.dir, 'list', '--json');
    expect(c.code).toBe(2);
    expect(JSON.parse(c.stderr).error).toMatchObject({ code: 'CONFIG_INVALID' });
    const unknown = registryRepo({ config: { canary: { percentage: 0.1, colour: 'red' } } });
    const u = await cli(unknown.dir, 'list', '--json');
    expect(JSON.parse(u.stderr).error.message).toContain('unknown key "colour"');
  });

  it('two registrations racing on the same branch end with one version, the other refused', async () => {
    const t = await base();
    const results = await Promise.allSettled([registerFake(t.dir, { seed: 'x' }), registerFake(t.dir, { seed: 'y' })]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const f of failed) expect(f.reason).toMatchObject({ code: expect.stringMatching(/CONCURRENT_UPDATE|GIT_FAILED/) });
    expect((await cli(t.dir, 'verify')).code).toBe(0);
    expect(t.status()).toBe('');
  });
});
