// Work on a PR branch without touching the user's checkout: a temporary git worktree of the
// branch, rebuilt from the base branch each time (as release-please rebuilds its release PR),
// where the ordinary use cases (collect, register, canary start, rollback) run unchanged.
// Also a per-model lock, so two jobs of one model never build the same branch at once.
import { mkdtemp, mkdir, rm, symlink, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { OUTCOMES_DIR } from '../data/outcome-store.js';
import { openContext, type Context } from './context.js';

export interface WorktreeRun<T> {
  result: T;
  branch: string;
  /** Commits the run added on top of the base, oldest first. */
  commits: string[];
  /** The branch tip after the run (null when the branch was dropped). */
  head: string | null;
}

/**
 * Runs `fn` in a worktree of `branch` reset to the base branch. The main checkout's outcome
 * store is linked in. When `keep(result)` is false, or `fn` throws, the branch is put back as
 * it was (or deleted if it did not exist), so a failed or skipped run leaves nothing behind.
 */
export async function withBranchWorktree<T>(
  ctx: Context,
  branch: string,
  fn: (wt: Context) => Promise<T>,
  opts: { keep?: (result: T) => boolean } = {},
): Promise<WorktreeRun<T>> {
  const base = (await ctx.repo.resolveRef(`refs/heads/${ctx.config.forge.base}`)) ?? (await ctx.repo.headOrNull());
  if (!base) throw new MlopsError('NOT_A_REGISTRY', 'the repository has no commit to branch from', { hint: 'Run `mlops init` first.' });
  const previous = await ctx.repo.resolveRef(`refs/heads/${branch}`);
  const dir = await mkdtemp(join(tmpdir(), 'mlops-wt-'));
  await ctx.repo.run(['worktree', 'prune']);
  const added = await ctx.repo.run(['worktree', 'add', '-q', '-f', '-B', branch, dir, base]);
  if (added.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new MlopsError('CONCURRENT_UPDATE', `cannot check out ${branch} in a temporary worktree: ${added.stderr.trim().split('\n')[0]}`, {
      hint: 'Another job may be working on this branch; run again when it is done.',
    });
  }
  let keep = false;
  try {
    await mkdir(join(dir, '.mlops'), { recursive: true });
    await symlink(join(ctx.root, OUTCOMES_DIR), join(dir, OUTCOMES_DIR)).catch(() => undefined);
    const wt = await openContext({ dir, configFile: ctx.configPath ?? undefined, now: ctx.now });
    const result = await fn({ ...wt, config: ctx.config });
    keep = opts.keep ? opts.keep(result) : true;
    const commits = (await wt.repo.runOk(['rev-list', '--reverse', `${base}..HEAD`])).split('\n').filter(Boolean);
    const head = keep ? await wt.repo.headOrNull() : null;
    return { result, branch, commits, head };
  } finally {
    await ctx.repo.run(['worktree', 'remove', '--force', dir]);
    await rm(dir, { recursive: true, force: true });
    await ctx.repo.run(['worktree', 'prune']);
    if (!keep) {
      if (previous) await ctx.repo.run(['update-ref', `refs/heads/${branch}`, previous]);
      else await ctx.repo.run(['update-ref', '-d', `refs/heads/${branch}`]);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock under .git/mlops/locks (shared by every worktree of the repository).
 * A lock left by a process that died is broken; one held by a live process is CONCURRENT_UPDATE.
 */
export async function withLock<T>(ctx: Context, name: string, fn: () => Promise<T>): Promise<T> {
  const dir = join(ctx.repo.gitdir, 'mlops', 'locks');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw lockedError(name, path);
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid && alive(pid)) throw lockedError(name, path, pid);
      await rm(path, { force: true }); // its owner died: break it and try once more
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

function lockedError(name: string, path: string, pid?: number): MlopsError {
  return new MlopsError('CONCURRENT_UPDATE', `another ${name} is running${pid ? ` (process ${pid})` : ''}`, {
    hint: `Wait for it to finish. If no such process exists, delete ${path}.`,
  });
}
