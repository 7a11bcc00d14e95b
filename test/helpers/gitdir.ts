// Real temporary git repositories for tests: init, write files, commit, tag, clean up.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

/** Identity and settings every test repository uses, so tests never depend on the user's config. */
export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

export interface TestRepo {
  dir: string;
  git(...args: string[]): string;
  write(files: Record<string, string | Buffer>): void;
  commit(message: string, files?: Record<string, string | Buffer>): string;
  head(): string;
  /** `git status --porcelain` output, '' when clean. */
  status(): string;
  tags(): string[];
  /** Commit count on HEAD. */
  count(): number;
}

export function tempDir(prefix = 'mlops-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The TestRepo handle of an existing working tree (no init, no config). */
export function repoAt(dir: string): TestRepo {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const repo: TestRepo = {
    dir,
    git,
    write(fs) {
      for (const [p, c] of Object.entries(fs)) {
        mkdirSync(dirname(join(dir, p)), { recursive: true });
        writeFileSync(join(dir, p), c);
      }
    },
    commit(message, fs) {
      if (fs) repo.write(fs);
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return repo.head();
    },
    head: () => git('rev-parse', 'HEAD').trim(),
    status: () => git('status', '--porcelain'),
    tags: () => git('tag', '--list').split('\n').filter(Boolean),
    count: () => Number(git('rev-list', '--count', 'HEAD').trim()),
  };
  return repo;
}

/** Local identity and no signing, so tests never depend on the user's git configuration. */
export function configureTestIdentity(repo: TestRepo): void {
  repo.git('config', 'user.name', 'Test User');
  repo.git('config', 'user.email', 'user@example.test');
  repo.git('config', 'commit.gpgsign', 'false');
  repo.git('config', 'tag.gpgsign', 'false');
}

/** A fresh repository on branch main with local identity config; optional first commit of `files`. */
export function gitdir(files?: Record<string, string | Buffer>, opts: { bare?: boolean } = {}): TestRepo {
  const dir = tempDir();
  const repo = repoAt(dir);
  repo.git('init', '-q', ...(opts.bare ? ['--bare'] : []), '-b', 'main');
  if (!opts.bare) configureTestIdentity(repo);
  if (files) repo.commit('initial', files);
  return repo;
}
