import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitRepo } from '../../src/git/repo.js';
import { LocalForge } from '../../src/forge/local.js';
import { incidentMarker } from '../../src/forge/markers.js';
import type { PullRequestSpec } from '../../src/forge/types.js';
import { gitdir, type TestRepo } from '../helpers/gitdir.js';

const HEAD = 'mlops/retrain/backlink-success';
const spec: PullRequestSpec = { title: 'mlops(backlink-success): retrain v1.1.0', body: 'metrics table', head: HEAD, base: 'main', labels: ['mlops', 'retrain'] };

/** A registry on main plus a retrain branch one commit ahead; main stays checked out. */
async function setup(): Promise<{ repo: TestRepo; forge: LocalForge; git: GitRepo }> {
  const repo = gitdir({ 'registry/m/deployments.yaml': 'production: v1.0.0\n', 'README.md': 'hello\n' });
  repo.git('switch', '-q', '-c', HEAD);
  repo.commit('mlops(backlink-success): register v1.1.0', { 'registry/m/versions/v1.1.0/manifest.yaml': 'version: v1.1.0\n' });
  repo.git('switch', '-q', 'main');
  const git = await GitRepo.open(repo.dir);
  return { repo, forge: new LocalForge({ repo: git, now: () => new Date('2026-11-29T02:00:00Z') }), git };
}

describe('LocalForge pull requests', () => {
  it('records the PR under the git directory, not in the working tree', async () => {
    const { repo, forge } = await setup();
    const r = await forge.ensurePullRequest(spec);
    expect(r).toMatchObject({ number: 1, action: 'created' });
    expect(r.url).toMatch(/^file:\/\/.*\/\.git\/mlops\/prs\/1\.json$/);
    expect(repo.status()).toBe('');
    const record = JSON.parse(readFileSync(join(repo.dir, '.git/mlops/prs/1.json'), 'utf8'));
    expect(record).toMatchObject({ number: 1, head: HEAD, base: 'main', state: 'open', labels: ['mlops', 'retrain'], created_at: '2026-11-29T02:00:00.000Z' });
    expect(await forge.findOpenPullRequest(HEAD)).toMatchObject({ number: 1, title: spec.title, state: 'open' });
  });

  it('is idempotent: unchanged, then updated in place, never a second PR', async () => {
    const { forge } = await setup();
    await forge.ensurePullRequest(spec);
    expect((await forge.ensurePullRequest(spec)).action).toBe('unchanged');
    expect((await forge.ensurePullRequest({ ...spec, body: 'new metrics' })).action).toBe('updated');
    expect((await forge.ensurePullRequest({ ...spec, body: 'new metrics', labels: ['mlops', 'retrain', 'canary'] })).action).toBe('updated');
    const pulls = await forge.pulls();
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ body: 'new metrics', labels: ['mlops', 'retrain', 'canary'] });
  });

  it('keeps one PR when two processes ensure it at once', async () => {
    const { forge, git } = await setup();
    const other = new LocalForge({ repo: git });
    const results = await Promise.all([forge.ensurePullRequest(spec), other.ensurePullRequest(spec), forge.ensurePullRequest(spec)]);
    expect(new Set(results.map((r) => r.number)).size).toBe(1);
    expect(results.filter((r) => r.action === 'created')).toHaveLength(1);
    expect(await forge.pulls()).toHaveLength(1);
  });

  it('breaks a lock left behind by a process that died', async () => {
    const { repo, forge } = await setup();
    const dead = spawnSync('true').pid!;
    mkdirSync(join(repo.dir, '.git/mlops/lock'), { recursive: true });
    writeFileSync(join(repo.dir, '.git/mlops/lock/pid'), String(dead));
    expect((await forge.ensurePullRequest(spec)).action).toBe('created');
    expect(existsSync(join(repo.dir, '.git/mlops/lock'))).toBe(false);
  });

  it('refuses a branch that does not exist or has nothing to review', async () => {
    const { repo, forge } = await setup();
    await expect(forge.ensurePullRequest({ ...spec, head: 'mlops/retrain/nope' })).rejects.toMatchObject({ code: 'FORGE_UNPROCESSABLE' });
    repo.git('branch', 'empty-branch');
    await expect(forge.ensurePullRequest({ ...spec, head: 'empty-branch' })).rejects.toMatchObject({ code: 'FORGE_UNPROCESSABLE', message: expect.stringContaining('no commits between') });
    expect(await forge.pulls()).toHaveLength(0);
  });

  it('closes a PR; the next ensure opens a new one', async () => {
    const { forge } = await setup();
    await forge.ensurePullRequest(spec);
    await forge.closePullRequest(1, 'discarded');
    expect((await forge.pulls())[0]).toMatchObject({ state: 'closed', comments: [{ body: 'discarded' }] });
    expect(await forge.ensurePullRequest(spec)).toMatchObject({ number: 2, action: 'created' });
    await expect(forge.closePullRequest(99)).rejects.toMatchObject({ code: 'FORGE_NOT_FOUND' });
  });
});

describe('LocalForge merge', () => {
  it('merges into the checked-out base with a real merge commit', async () => {
    const { repo, forge } = await setup();
    const base = repo.head();
    const headTip = repo.git('rev-parse', HEAD).trim();
    await forge.ensurePullRequest(spec);
    const r = await forge.mergePullRequest(HEAD);
    expect(r).toMatchObject({ number: 1, base: 'main', head: HEAD, method: 'merge' });
    expect(repo.head()).toBe(r.commit);
    expect(repo.git('rev-list', '--parents', '-n1', 'HEAD').trim().split(' ').slice(1)).toEqual([base, headTip]);
    expect(repo.git('log', '-1', '--format=%B').trim()).toBe(`Merge pull request #1 from ${HEAD}\n\n${spec.title}`);
    expect(existsSync(join(repo.dir, 'registry/m/versions/v1.1.0/manifest.yaml'))).toBe(true);
    expect(repo.status()).toBe('');
    expect((await forge.pulls())[0]).toMatchObject({ state: 'merged', merge_commit: r.commit });
    expect(await forge.findOpenPullRequest(HEAD)).toBeNull();
  });

  it('merges while another branch is checked out, leaving that checkout alone', async () => {
    const { repo, forge } = await setup();
    repo.git('switch', '-q', '-c', 'work');
    repo.write({ 'notes.txt': 'untracked, must survive\n' });
    const base = repo.git('rev-parse', 'main').trim();
    await forge.ensurePullRequest(spec);
    const r = await forge.mergePullRequest(HEAD, { deleteBranch: true });
    expect(repo.git('rev-parse', 'main').trim()).toBe(r.commit);
    expect(repo.git('rev-list', '--parents', '-n1', 'main').trim().split(' ')[1]).toBe(base);
    expect(repo.git('branch', '--show-current').trim()).toBe('work');
    expect(existsSync(join(repo.dir, 'registry/m/versions/v1.1.0/manifest.yaml'))).toBe(false);
    expect(readFileSync(join(repo.dir, 'notes.txt'), 'utf8')).toBe('untracked, must survive\n');
    expect(repo.git('worktree', 'list').trim().split('\n')).toHaveLength(1);
    expect(repo.git('branch', '--list', HEAD).trim()).toBe('');
  });

  it('squashes into one commit titled after the PR', async () => {
    const { repo, forge } = await setup();
    repo.git('switch', '-q', HEAD);
    repo.commit('second commit', { 'registry/m/versions/v1.1.0/model.onnx': 'onnx' });
    repo.git('switch', '-q', 'main');
    const base = repo.head();
    await forge.ensurePullRequest(spec);
    const r = await forge.mergePullRequest(HEAD, { method: 'squash' });
    expect(repo.git('rev-list', '--parents', '-n1', 'HEAD').trim().split(' ').slice(1)).toEqual([base]);
    expect(repo.git('log', '-1', '--format=%s').trim()).toBe(`${spec.title} (#1)`);
    expect(repo.git('diff', '--name-only', base, r.commit).trim().split('\n').sort()).toEqual([
      'registry/m/versions/v1.1.0/manifest.yaml',
      'registry/m/versions/v1.1.0/model.onnx',
    ]);
    expect(repo.status()).toBe('');
  });

  it('refuses to merge into a dirty tree', async () => {
    const { repo, forge } = await setup();
    await forge.ensurePullRequest(spec);
    repo.write({ 'README.md': 'edited\n' });
    const before = repo.head();
    await expect(forge.mergePullRequest(HEAD)).rejects.toMatchObject({ code: 'DIRTY_REGISTRY', message: expect.stringContaining('README.md') });
    expect(repo.head()).toBe(before);
    expect((await forge.pulls())[0]!.state).toBe('open');
  });

  it.each(['merge', 'squash'] as const)('stops on a conflict (%s) and leaves base and tree as they were', async (method) => {
    const { repo, forge } = await setup();
    repo.git('switch', '-q', HEAD);
    repo.commit('branch edit', { 'README.md': 'from the branch\n' });
    repo.git('switch', '-q', 'main');
    repo.commit('main edit', { 'README.md': 'from main\n' });
    const before = repo.head();
    await forge.ensurePullRequest(spec);
    await expect(forge.mergePullRequest(HEAD, { method })).rejects.toMatchObject({ code: 'MERGE_CONFLICT', data: { conflicts: ['README.md'] } });
    expect(repo.head()).toBe(before);
    expect(repo.status()).toBe('');
    expect(readFileSync(join(repo.dir, 'README.md'), 'utf8')).toBe('from main\n');
    expect((await forge.pulls())[0]!.state).toBe('open');
  });

  it('cleans up its temporary worktree when a merge away from the checkout conflicts', async () => {
    const { repo, forge } = await setup();
    repo.git('switch', '-q', HEAD);
    repo.commit('branch edit', { 'README.md': 'from the branch\n' });
    repo.git('switch', '-q', 'main');
    repo.commit('main edit', { 'README.md': 'from main\n' });
    const before = repo.head();
    repo.git('switch', '-q', HEAD);
    await forge.ensurePullRequest(spec);
    await expect(forge.mergePullRequest(HEAD)).rejects.toMatchObject({ code: 'MERGE_CONFLICT' });
    expect(repo.git('rev-parse', 'main').trim()).toBe(before);
    expect(repo.git('worktree', 'list').trim().split('\n')).toHaveLength(1);
    expect(repo.status()).toBe('');
  });

  it('says there is no open PR to merge', async () => {
    const { forge } = await setup();
    await expect(forge.mergePullRequest(HEAD)).rejects.toMatchObject({ code: 'FORGE_NOT_FOUND' });
  });
});

describe('LocalForge issues and branches', () => {
  it('opens one issue per incident, comments afterwards, closes on recovery', async () => {
    const { forge } = await setup();
    await forge.ensurePullRequest(spec);
    const opened = await forge.ensureIssue({ key: 'canary:m@v1.1.0', title: 'Canary rolled back', body: 'error rate 12%', labels: ['mlops-alert'] });
    expect(opened).toMatchObject({ number: 2, action: 'opened' });
    expect(await forge.ensureIssue({ key: 'canary:m@v1.1.0', title: 'x', body: 'again', labels: [] })).toMatchObject({ number: 2, action: 'commented' });
    const found = await forge.findIssue('canary:m@v1.1.0');
    expect(found).toMatchObject({ number: 2, title: 'Canary rolled back', labels: ['mlops-alert'] });
    expect(found!.body).toContain(incidentMarker('canary:m@v1.1.0'));
    await forge.updateIssueBody(2, 'canary:m@v1.1.0', 'rewritten');
    expect((await forge.findIssue('canary:m@v1.1.0'))!.body).toBe(`rewritten\n\n${incidentMarker('canary:m@v1.1.0')}`);
    expect(await forge.closeIssue({ key: 'canary:m@v1.1.0', comment: 'recovered' })).toMatchObject({ number: 2 });
    expect(await forge.findIssue('canary:m@v1.1.0')).toBeNull();
    expect((await forge.issues())[0]).toMatchObject({ state: 'closed', comments: [{ body: 'again' }, { body: 'recovered' }] });
    expect(await forge.closeIssue({ key: 'canary:m@v1.1.0' })).toBeNull();
    expect((await forge.ensureIssue({ key: 'canary:m@v1.1.0', title: 't', body: 'b', labels: [] })).number).toBe(3);
  });

  it('pushes the branch to its remote when there is one, and does nothing otherwise', async () => {
    const { repo, git } = await setup();
    expect(await new LocalForge({ repo: git, remote: 'origin' }).pushBranch(git, HEAD)).toEqual({ pushed: false, remote: null });
    const origin = gitdir(undefined, { bare: true });
    repo.git('remote', 'add', 'origin', origin.dir);
    expect(await new LocalForge({ repo: git, remote: 'origin' }).pushBranch(git, HEAD)).toEqual({ pushed: true, remote: 'origin' });
    expect(origin.git('rev-parse', `refs/heads/${HEAD}`).trim()).toBe(repo.git('rev-parse', HEAD).trim());
  });
});
