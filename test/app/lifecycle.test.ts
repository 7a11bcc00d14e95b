import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, registryRepo, registerFake, readDeployments } from '../helpers/registry.js';

const M = 'backlink-success';

/** A registry with v1.0.0 in production, v1.1.0 promoted through a canary, v1.2.0 staging. */
async function withHistory() {
  const t = registryRepo();
  await registerFake(t.dir, { seed: 'a' });
  expect((await cli(t.dir, 'promote', `${M}@v1.0.0`)).code).toBe(0); // first version: no --force needed
  await registerFake(t.dir, { seed: 'b', dataset: 'mlops.config.json' });
  expect((await cli(t.dir, 'canary', 'start', `${M}@v1.1.0`, '--weight', '0.1')).code).toBe(0);
  expect((await cli(t.dir, 'promote', `${M}@v1.1.0`)).code).toBe(0);
  return t;
}

describe('register', () => {
  it('writes the manifest and artifact in one commit with trailers, and tags it on the default branch', async () => {
    const t = registryRepo();
    const before = t.count();
    const v = await registerFake(t.dir, { seed: 'x' });
    expect(v).toBe('v1.0.0');
    expect(t.count()).toBe(before + 1);
    const msg = t.git('log', '-1', '--format=%B');
    expect(msg.split('\n')[0]).toBe(`mlops(${M}): register v1.0.0`);
    expect(msg).toMatch(/Mlops-Action: register\nMlops-Model: backlink-success\nMlops-Version: v1\.0\.0\nMlops-Previous: none/);
    expect(t.git('show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort()).toEqual([
      `registry/${M}/versions/v1.0.0/manifest.yaml`,
      `registry/${M}/versions/v1.0.0/model.onnx`,
    ]);
    expect(t.tags()).toEqual([`${M}@v1.0.0`]);
    expect(t.git('cat-file', '-t', `${M}@v1.0.0`).trim()).toBe('tag'); // annotated
    expect(t.status()).toBe('');
    const show = await cli(t.dir, 'show', `${M}@v1.0.0`, '--json');
    expect(show.json()).toMatchObject({ status: 'staging', tag: { name: `${M}@v1.0.0`, commit: t.head() }, manifest: { dataset: { name: 'train.csv', rows: 2 } } });
  });

  it('bumps MINOR for a new dataset and PATCH for the same inputs, relative to production', async () => {
    const t = registryRepo();
    await registerFake(t.dir, { seed: '1' });
    await cli(t.dir, 'promote', `${M}@v1.0.0`);
    expect(await registerFake(t.dir, { seed: '2' })).toBe('v1.0.1');
    expect(await registerFake(t.dir, { seed: '3', dataset: 'mlops.config.json' })).toBe('v1.1.0');
    expect(await registerFake(t.dir, { seed: '4', bump: 'major' })).toBe('v2.0.0');
  });

  it('never reuses the number of a registration that was reverted (its tag remains)', async () => {
    const t = registryRepo();
    await registerFake(t.dir, { seed: '1' });
    t.git('revert', '--no-edit', 'HEAD');
    expect(existsSync(join(t.dir, `registry/${M}/versions/v1.0.0`))).toBe(false);
    // no parent in production: a new number from the greatest ever used (v1.0.0, kept by its tag)
    expect(await registerFake(t.dir, { seed: '2' })).toBe('v1.1.0');
    const r = await cli(t.dir, 'register', '--model', M, '--artifact', 'data/train.csv', '--dataset', 'data/train.csv', '--version', 'v1.0.0', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe('VERSION_EXISTS');
  });

  it('does not tag on a branch other than the default one', async () => {
    const t = registryRepo();
    t.git('switch', '-q', '-c', 'mlops/retrain/backlink-success');
    await registerFake(t.dir, { seed: '1' });
    expect(t.tags()).toEqual([]);
  });
});

describe('stage rules', () => {
  it('canary start -> promote moves the pointers, old production becomes staging', async () => {
    const t = await withHistory();
    expect(readDeployments(t.dir)).toContain('production: v1.1.0\n\ncanary: null\n');
    const list = (await cli(t.dir, 'list', '--json')).json<Array<{ version: string; status: string }>>();
    expect(list.map((r) => [r.version, r.status])).toEqual([
      ['v1.1.0', 'production'],
      ['v1.0.0', 'staging'],
    ]);
    const get = await cli(t.dir, 'get', M, '--stage', 'production', '--json');
    expect(get.json()).toMatchObject({ version: 'v1.1.0', weight: 1, path: join(t.dir, `registry/${M}/versions/v1.1.0/model.onnx`) });
  });

  it.each([
    [['promote', `${M}@v1.2.0`], 'NOT_IN_CANARY'],
    [['canary', 'start', `${M}@v1.1.0`], 'CANARY_IS_PRODUCTION'],
    [['canary', 'start', `${M}@v9.9.9`], 'VERSION_NOT_FOUND'],
    [['canary', 'start', `${M}@v1.2.0`, '--weight', '1'], 'CANARY_WEIGHT_INVALID'],
    [['canary', 'weight', M, '0.5'], 'CANARY_NOT_RUNNING'],
    [['canary', 'abort', M], 'CANARY_NOT_RUNNING'],
    [['promote', `${M}@v1.1.0`], 'ALREADY_IN_PRODUCTION'],
    [['deprecate', `${M}@v1.1.0`, '--reason', 'x'], 'VERSION_POINTED'],
    [['archive', `${M}@v1.0.0`], 'LIFECYCLE_TRANSITION_INVALID'],
  ])('%j is refused with %s and changes nothing', async (argv, code) => {
    const t = await withHistory();
    await registerFake(t.dir, { seed: 'c' });
    const head = t.head();
    const tags = t.tags();
    const r = await cli(t.dir, ...argv, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code });
    expect(t.head()).toBe(head);
    expect(t.tags()).toEqual(tags);
    expect(t.status()).toBe('');
  });

  it('refuses a second canary and promoting another version while a canary runs', async () => {
    const t = await withHistory();
    expect(await registerFake(t.dir, { seed: 'c' })).toBe('v1.2.0');
    expect(await registerFake(t.dir, { seed: 'd' })).toBe('v1.3.0');
    expect((await cli(t.dir, 'canary', 'start', `${M}@v1.2.0`)).code).toBe(0);
    const second = await cli(t.dir, 'canary', 'start', `${M}@v1.3.0`, '--json');
    expect(JSON.parse(second.stderr).error.code).toBe('CANARY_ALREADY_RUNNING');
    const forced = await cli(t.dir, 'promote', `${M}@v1.3.0`, '--force', '--json');
    expect(JSON.parse(forced.stderr).error.code).toBe('CANARY_ALREADY_RUNNING');
  });

  it('canary weight and abort; deprecate and archive with prune', async () => {
    const t = await withHistory();
    await registerFake(t.dir, { seed: 'c' });
    expect((await cli(t.dir, 'canary', 'start', `${M}@v1.2.0`, '--weight', '10%')).code).toBe(0);
    expect((await cli(t.dir, 'canary', 'weight', M, '0.25')).code).toBe(0);
    expect(readDeployments(t.dir)).toMatch(/canary:\n  version: v1\.2\.0\n  weight: 0\.25\n/);
    expect((await cli(t.dir, 'canary', 'abort', M, '--reason', 'enough')).code).toBe(0);
    expect(readDeployments(t.dir)).toMatch(/canary: null/);
    expect((await cli(t.dir, 'deprecate', `${M}@v1.0.0`, '--reason', 'old')).code).toBe(0);
    expect((await cli(t.dir, 'archive', `${M}@v1.0.0`, '--prune')).code).toBe(0);
    expect(existsSync(join(t.dir, `registry/${M}/versions/v1.0.0/model.onnx`))).toBe(false);
    const show = (await cli(t.dir, 'show', `${M}@v1.0.0`, '--json')).json();
    expect(show.manifest.lifecycle).toMatchObject({ state: 'archived', reason: 'old' });
    expect((await cli(t.dir, 'verify')).code).toBe(0); // an archived artifact may leave the tree
  });
});

describe('rollback is git revert', () => {
  it('mlops rollback reverts the promotion, then deprecates the bad version', async () => {
    const t = await withHistory();
    const promoteCommit = t.head();
    const r = await cli(t.dir, 'rollback', M, '--reason', 'error rate 12%', '--json');
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ stage: 'production', version: 'v1.1.0', restored: 'v1.0.0', reverted: promoteCommit, applied: { how: 'revert' } });
    const revertMsg = t.git('log', '-1', '--format=%B', 'HEAD~1');
    expect(revertMsg).toContain(`Revert "mlops(${M}): promote v1.1.0"`);
    expect(revertMsg).toContain(`This reverts commit ${promoteCommit}.`);
    expect(revertMsg).toContain('Mlops-Action: rollback');
    expect(t.git('log', '-1', '--format=%s').trim()).toBe(`mlops(${M}): deprecate v1.1.0`);
    expect(readDeployments(t.dir)).toContain('production: v1.0.0\n\ncanary: null\n');
    const v11 = (await cli(t.dir, 'show', `${M}@v1.1.0`, '--json')).json();
    expect(v11.manifest.lifecycle).toMatchObject({ state: 'deprecated', reason: 'error rate 12%' });
    expect((await cli(t.dir, 'verify')).code).toBe(0);
  });

  it('a plain `git revert` of the promotion gives the same pointers as `mlops rollback --keep-active`', async () => {
    const a = await withHistory();
    const b = await withHistory();
    a.git('revert', '--no-edit', 'HEAD');
    expect((await cli(b.dir, 'rollback', M, '--stage', 'production', '--keep-active')).code).toBe(0);
    const pointers = (dir: string) => readDeployments(dir).replace(/started_at: .*/, '');
    expect(pointers(a.dir)).toBe(pointers(b.dir));
    expect(readDeployments(a.dir)).toMatch(/production: v1\.0\.0/);
    // every command reads the hand-reverted registry
    expect((await cli(a.dir, 'verify')).code).toBe(0);
    const get = (await cli(a.dir, 'get', M, '--json')).json();
    expect(get.version).toBe('v1.0.0');
    const hist = (await cli(a.dir, 'history', M, '--json')).json();
    expect(hist.moves[0]).toMatchObject({ kind: 'revert', by: 'git-revert', production: { from: 'v1.1.0', to: 'v1.0.0' } });
  });

  it('rolls back a canary by reverting its start', async () => {
    const t = await withHistory();
    await registerFake(t.dir, { seed: 'c' });
    await cli(t.dir, 'canary', 'start', `${M}@v1.2.0`);
    const r = (await cli(t.dir, 'rollback', M, '--json')).json();
    expect(r).toMatchObject({ stage: 'canary', version: 'v1.2.0', applied: { how: 'revert' }, followUp: { plan: { action: 'deprecate' } } });
    expect(readDeployments(t.dir)).toContain('production: v1.1.0\n\ncanary: null\n');
  });

  it('falls back to a forward commit with Mlops-Reverts when the revert conflicts', async () => {
    const t = await withHistory();
    await registerFake(t.dir, { seed: 'c' });
    await cli(t.dir, 'canary', 'start', `${M}@v1.2.0`);
    await cli(t.dir, 'canary', 'weight', M, '0.3'); // touches the canary block again
    const start = t.git('log', '--format=%H', '-1', '--grep', 'canary-start v1.2.0').trim();
    const r = (await cli(t.dir, 'rollback', M, '--json')).json();
    expect(r.applied.how).toBe('forward');
    expect(r.applied.conflicts).toEqual([`registry/${M}/deployments.yaml`]);
    const msg = t.git('log', '-1', '--format=%B', 'HEAD~1');
    expect(msg.split('\n')[0]).toBe(`mlops(${M}): rollback v1.2.0`);
    expect(msg).toContain(`Mlops-Reverts: ${start}`);
    expect(readDeployments(t.dir)).toContain('canary: null');
    expect(t.status()).toBe('');
  });

  it('refuses to roll back the first production version (nothing to return to)', async () => {
    const t = registryRepo();
    await registerFake(t.dir, { seed: 'a' });
    await cli(t.dir, 'promote', `${M}@v1.0.0`);
    const head = t.head();
    const r = await cli(t.dir, 'rollback', M, '--json');
    expect(JSON.parse(r.stderr).error.code).toBe('NO_ROLLBACK_TARGET');
    expect(t.head()).toBe(head);
  });
});

describe('history', () => {
  it('lists promotions, canaries and rollbacks newest first with their kind', async () => {
    const t = await withHistory();
    await cli(t.dir, 'rollback', M);
    const moves = (await cli(t.dir, 'history', M, '--json')).json().moves;
    // the deprecation also clears the canary pointer the revert restored; the first commit was made by hand
    expect(moves.map((m: { kind: string }) => m.kind)).toEqual(['deprecate', 'rollback', 'promote', 'canary-start', 'promote', 'manual']);
    expect(moves[1]).toMatchObject({ by: 'mlops', production: { from: 'v1.1.0', to: 'v1.0.0' }, canary: { from: null, to: 'v1.1.0' } });
    const text = await cli(t.dir, 'history', M);
    expect(text.stdout).toContain('rollback');
  });

  it('understands commits made by hand', async () => {
    const t = await withHistory();
    const d = readDeployments(t.dir).replace('production: v1.1.0', 'production: v1.0.0');
    t.commit('ops: point production back by hand', { [`registry/${M}/deployments.yaml`]: d });
    const moves = (await cli(t.dir, 'history', M, '--json')).json().moves;
    expect(moves[0]).toMatchObject({ kind: 'manual', by: 'hand', author: { name: 'Test Author' }, production: { from: 'v1.1.0', to: 'v1.0.0' } });
  });
});

describe('tags sync', () => {
  it('tags versions registered on a branch at the first default-branch commit holding them', async () => {
    const t = registryRepo();
    t.git('switch', '-q', '-c', 'feature');
    await registerFake(t.dir, { seed: '1' });
    t.git('switch', '-q', 'main');
    t.git('merge', '-q', '--no-ff', 'feature', '-m', 'Merge feature');
    const merge = t.head();
    const r = (await cli(t.dir, 'tags', 'sync', '--json')).json();
    expect(r.created).toEqual([{ tag: `${M}@v1.0.0`, commit: merge }]);
    expect((await cli(t.dir, 'tags', 'sync', '--json')).json().created).toEqual([]);
    expect((await cli(t.dir, 'verify')).code).toBe(0);
  });
});

describe('dry run', () => {
  it('prints the plan and writes nothing', async () => {
    const t = await withHistory();
    await registerFake(t.dir, { seed: 'c' });
    const head = t.head();
    const r = (await cli(t.dir, 'canary', 'start', `${M}@v1.2.0`, '--dry-run', '--json')).json();
    expect(r.applied).toBeNull();
    expect(r.plan).toMatchObject({ action: 'canary-start', files: [{ path: `registry/${M}/deployments.yaml`, change: 'write' }] });
    expect(t.head()).toBe(head);
    expect(readFileSync(join(t.dir, `registry/${M}/deployments.yaml`), 'utf8')).toContain('canary: null');
  });
});
