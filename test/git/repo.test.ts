import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { GitRepo } from '../../src/git/repo.js';
import { gitdir, tempDir } from '../helpers/gitdir.js';

describe('GitRepo', () => {
  it('refuses a directory outside any repository', async () => {
    await expect(GitRepo.open(tempDir())).rejects.toMatchObject({ code: 'NOT_A_GIT_REPO' });
  });

  it('commits exactly the edits, leaves other staged changes alone, and syncs the tree', async () => {
    const t = gitdir({ 'a.txt': 'a\n', 'gone.txt': 'x\n' });
    t.write({ 'unrelated.txt': 'staged\n' });
    t.git('add', 'unrelated.txt');
    const repo = await GitRepo.open(t.dir);
    const before = t.head();
    const sha = await repo.commitFiles({
      edits: [
        { path: 'dir/new.yaml', content: 'k: v\n' },
        { path: 'gone.txt', content: null },
      ],
      message: 'mlops(m): register v1.0.0\n\nMlops-Action: register\n',
    });
    expect(t.head()).toBe(sha);
    expect(t.git('rev-parse', 'HEAD~1').trim()).toBe(before);
    expect(t.git('show', '--name-status', '--format=', 'HEAD').trim().split('\n').sort()).toEqual(['A\tdir/new.yaml', 'D\tgone.txt']);
    expect(readFileSync(join(t.dir, 'dir/new.yaml'), 'utf8')).toBe('k: v\n');
    expect(existsSync(join(t.dir, 'gone.txt'))).toBe(false);
    // the unrelated staged file is still staged and not committed
    expect(t.status()).toBe('A  unrelated.txt\n');
  });

  it('refuses to commit when the branch moved (compare-and-swap)', async () => {
    const t = gitdir({ 'a.txt': 'a\n' });
    const repo = await GitRepo.open(t.dir);
    const stale = t.head();
    t.commit('someone else', { 'b.txt': 'b\n' });
    await expect(repo.commitFiles({ edits: [{ path: 'c.txt', content: 'c' }], message: 'x', expectedHead: stale })).rejects.toMatchObject({
      code: 'CONCURRENT_UPDATE',
    });
    expect(t.count()).toBe(2);
    expect(existsSync(join(t.dir, 'c.txt'))).toBe(false);
  });

  it('refuses a detached HEAD', async () => {
    const t = gitdir({ 'a.txt': 'a\n' });
    t.git('checkout', '-q', '--detach');
    const repo = await GitRepo.open(t.dir);
    await expect(repo.commitFiles({ edits: [{ path: 'c.txt', content: 'c' }], message: 'x' })).rejects.toMatchObject({ code: 'DETACHED_HEAD' });
  });

  it('reads files at refs, tags peeled to commits, and path history with blobs', async () => {
    const t = gitdir({ 'd.yaml': 'one\n' });
    const first = t.head();
    t.git('tag', '-a', 'm@v1.0.0', '-m', 'reg');
    t.commit('second', { 'd.yaml': 'two\n' });
    const repo = await GitRepo.open(t.dir);
    expect((await repo.readFileAt(first, 'd.yaml'))?.toString()).toBe('one\n');
    expect((await repo.readFileAt('HEAD', 'd.yaml'))?.toString()).toBe('two\n');
    expect(await repo.readFileAt('HEAD', 'nope')).toBeNull();
    expect(await repo.listTags('m@')).toEqual([{ name: 'm@v1.0.0', commit: first, annotated: true }]);
    const log = await repo.logPath('d.yaml');
    expect(log.map((e) => e.subject)).toEqual(['second', 'initial']);
    expect(log[1]!.before).toBeNull();
    const blobs = await repo.readBlobs([log[0]!.before!, log[0]!.after!]);
    expect(blobs.get(log[0]!.before!)!.toString()).toBe('one\n');
    expect(blobs.get(log[0]!.after!)!.toString()).toBe('two\n');
  });

  it('reverts cleanly, and aborts leaving the tree untouched on conflict', async () => {
    const t = gitdir({ 'p.txt': 'a\n\nb\n' });
    const c1 = t.commit('move a', { 'p.txt': 'A\n\nb\n' });
    const repo = await GitRepo.open(t.dir);
    const r = await repo.revert(c1, `Revert "move a"\n\nThis reverts commit ${c1}.\n`);
    expect(r.ok).toBe(true);
    expect(readFileSync(join(t.dir, 'p.txt'), 'utf8')).toBe('a\n\nb\n');
    const c2 = t.commit('move a again', { 'p.txt': 'X\n\nb\n' });
    t.commit('move a once more', { 'p.txt': 'Y\n\nb\n' });
    const head = t.head();
    const r2 = await repo.revert(c2, 'x');
    expect(r2).toEqual({ ok: false, conflicts: ['p.txt'] });
    expect(t.head()).toBe(head);
    expect(t.status()).toBe('');
  });
});
