// The only code that runs git. Reads that must be fast in-process (a file at a ref, tags) use
// isomorphic-git; everything that writes, and bulk history, goes through the git CLI with one
// small spawn helper (plumbing needs stdin, and one helper gives one error mapping). Commits
// are built on a temporary index and landed with a compare-and-swap of the branch ref, so a
// failed or concurrent write never leaves a stray commit or a half-edited tree.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { MlopsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';

export interface FileEdit {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  /** New content, or null to delete the file. */
  content: string | Uint8Array | null;
  /** Make the file executable (mode 100755). */
  executable?: boolean;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface LogEntry {
  commit: string;
  parents: string[];
  author: { name: string; email: string };
  /** ISO 8601 author date. */
  date: string;
  committerDate: string;
  subject: string;
  /** Whole message: subject, body and trailers. */
  message: string;
  /** Blob of the path before and after this commit (null when absent). Only set by logPath. */
  before?: string | null;
  after?: string | null;
}

export interface TagRef {
  name: string;
  /** The commit the tag points to (annotated tags peeled). */
  commit: string;
  annotated: boolean;
}

const ZERO_OID = '0000000000000000000000000000000000000000';

// Loaded on first use: `mlops get` and `list` never run git, and compiling these built-ins is a
// measurable share of their start-up.
let spawnFn: ((cmd: string, args: string[], opts: SpawnOptions) => ChildProcess) | undefined;
async function spawnGit(args: string[], opts: SpawnOptions): Promise<ChildProcess> {
  spawnFn ??= (await import('node:child_process')).spawn;
  return spawnFn('git', args, opts);
}

async function tempSuffix(): Promise<string> {
  return (await import('node:crypto')).randomBytes(4).toString('hex');
}

async function loadIsoGit() {
  const mod = await import('isomorphic-git');
  return mod.default;
}

export class GitRepo {
  private constructor(
    /** Root of the working tree. */
    readonly dir: string,
    /** The .git directory (resolved for worktrees and `gitdir:` files). */
    readonly gitdir: string,
    /** When set, commits and tags are dated by this clock (simulations and tests) instead of git's. */
    readonly clock?: () => Date,
  ) {}

  /** Opens the repository containing `dir` (searching upwards like git does). */
  static async open(dir: string, opts: { clock?: () => Date } = {}): Promise<GitRepo> {
    let cur = resolve(dir);
    for (;;) {
      const dotgit = join(cur, '.git');
      try {
        const st = await stat(dotgit);
        if (st.isDirectory()) return new GitRepo(cur, dotgit, opts.clock);
        if (st.isFile()) {
          const m = /^gitdir:\s*(.+)\s*$/m.exec(await readFile(dotgit, 'utf8'));
          if (m) return new GitRepo(cur, isAbsolute(m[1]!) ? m[1]! : resolve(cur, m[1]!), opts.clock);
        }
      } catch {
        // not here: look in the parent
      }
      const parent = dirname(cur);
      if (parent === cur) {
        throw new MlopsError('NOT_A_GIT_REPO', `${resolve(dir)} is not inside a git repository`, {
          hint: 'Run `git init` first, or pass --repo DIR pointing into a git repository.',
        });
      }
      cur = parent;
    }
  }

  /** Runs git with optional stdin. Never throws on a non-zero exit: callers decide. */
  async run(args: string[], opts: { input?: string | Uint8Array; env?: Record<string, string> } = {}): Promise<GitResult> {
    const dated = this.clock ? { GIT_AUTHOR_DATE: this.clock().toISOString(), GIT_COMMITTER_DATE: this.clock().toISOString() } : {};
    const child = await spawnGit(args, {
      cwd: this.dir,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...dated, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new Promise((resolvePromise, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stderr!.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) =>
        reject(new MlopsError('GIT_FAILED', `cannot run git: ${e.message}`, { cause: e, hint: 'Install git 2.30 or later and put it on PATH.' })),
      );
      child.on('close', (code) =>
        resolvePromise({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code: code ?? 1 }),
      );
      child.stdin!.on('error', () => {
        // git may exit before reading stdin; the exit code tells what happened
      });
      child.stdin!.end(opts.input ?? '');
    });
  }

  /** Runs git and throws GIT_FAILED (or a more precise code) on a non-zero exit. */
  async runOk(args: string[], opts: { input?: string | Uint8Array; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw gitError(args, r);
    return r.stdout;
  }

  // ---- reads (in-process) ----

  /** The short name of the checked-out branch, or null when HEAD is detached. */
  async currentBranch(): Promise<string | null> {
    // Reading HEAD directly is a few microseconds and handles unborn branches too.
    const head = (await readFile(join(this.gitdir, 'HEAD'), 'utf8')).trim();
    const m = /^ref: refs\/heads\/(.+)$/.exec(head);
    return m ? m[1]! : null;
  }

  /** The commit a ref resolves to, or null when it does not exist (an unborn branch). */
  async resolveRef(ref: string): Promise<string | null> {
    const git = await loadIsoGit();
    try {
      return await git.resolveRef({ fs, dir: this.dir, gitdir: this.gitdir, ref, depth: 10 });
    } catch {
      if (/^[0-9a-f]{40}$/.test(ref)) return ref;
      try {
        return await git.expandOid({ fs, dir: this.dir, gitdir: this.gitdir, oid: ref });
      } catch {
        return null;
      }
    }
  }

  /** A file's bytes at a ref (commit, branch or tag), or null when the path is absent there. */
  async readFileAt(ref: string, path: string): Promise<Buffer | null> {
    const git = await loadIsoGit();
    const oid = await this.resolveRef(ref);
    if (!oid) return null;
    try {
      const { blob } = await git.readBlob({ fs, dir: this.dir, gitdir: this.gitdir, oid, filepath: path });
      return Buffer.from(blob);
    } catch {
      return null;
    }
  }

  /**
   * Tags whose name starts with `prefix`, peeled to the commit they point to. One
   * `git for-each-ref` whatever their number (isomorphic-git reads packed tags one object at a
   * time: minutes for a thousand).
   */
  async listTags(prefix = ''): Promise<TagRef[]> {
    const pattern = `refs/tags/${prefix.replace(/[*?[\\]/g, '\\$&')}*`;
    const r = await this.run(['for-each-ref', '--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objectname)', pattern]);
    if (r.code !== 0) throw gitError(['for-each-ref'], r);
    const tags: TagRef[] = [];
    for (const line of r.stdout.split('\n')) {
      const [name, type, oid, peeled] = line.split('\0');
      if (!name || !oid || !name.startsWith(prefix)) continue;
      const annotated = type === 'tag';
      tags.push({ name, commit: annotated && peeled ? peeled : oid, annotated });
    }
    return tags;
  }

  // ---- reads (git CLI, for bulk history) ----

  /** Paths under the given pathspecs that differ from HEAD (staged, unstaged or untracked). */
  async dirtyPaths(pathspecs: string[]): Promise<string[]> {
    const out = await this.runOk(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...pathspecs]);
    const paths: string[] = [];
    const parts = out.split('\0');
    for (let i = 0; i < parts.length; i++) {
      const entry = parts[i]!;
      if (entry.length < 4) continue;
      paths.push(entry.slice(3));
      if (entry[0] === 'R' || entry[0] === 'C') i++; // rename source follows
    }
    return paths;
  }

  /**
   * Commits that changed `path`, newest first, each with the blob ids before and after.
   * Merge commits are compared with their first parent, so a merged PR shows as one change.
   */
  async logPath(path: string, opts: { ref?: string; firstParent?: boolean; maxCount?: number } = {}): Promise<LogEntry[]> {
    const args = ['log', '--no-renames', '--raw', '--no-abbrev', '--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%B%x1f'];
    if (opts.firstParent) args.push('--first-parent');
    if (opts.maxCount) args.push(`--max-count=${opts.maxCount}`);
    args.push(opts.ref ?? 'HEAD', '--', path);
    const r = await this.run(args);
    if (r.code !== 0) {
      if (/does not have any commits|unknown revision|bad default revision/.test(r.stderr)) return [];
      throw gitError(args, r);
    }
    return parseLog(r.stdout, path);
  }

  /** Reads many blobs in one git process. */
  async readBlobs(oids: string[]): Promise<Map<string, Buffer>> {
    const unique = [...new Set(oids)];
    const result = new Map<string, Buffer>();
    if (unique.length === 0) return result;
    const child = await spawnGit(['cat-file', '--batch'], { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const r = await new Promise<Buffer>((res, rej) => {
      const chunks: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => chunks.push(d));
      child.on('error', rej);
      child.on('close', () => res(Buffer.concat(chunks)));
      child.stdin!.end(unique.join('\n') + '\n');
    });
    let pos = 0;
    for (const oid of unique) {
      const nl = r.indexOf(10, pos);
      const header = r.subarray(pos, nl).toString('utf8');
      pos = nl + 1;
      const m = /^([0-9a-f]{40}) (\w+) (\d+)$/.exec(header);
      if (!m) continue; // "<oid> missing"
      const size = Number(m[3]);
      result.set(oid, r.subarray(pos, pos + size));
      pos += size + 1;
    }
    return result;
  }

  /** Whether `path` exists in the tree of `commit`. */
  async existsAt(commit: string, path: string): Promise<boolean> {
    const r = await this.run(['cat-file', '-e', `${commit}:${path}`]);
    return r.code === 0;
  }

  // ---- writes ----

  /**
   * Makes one commit on the current branch holding exactly `edits` on top of HEAD, then
   * brings the working tree and index of those paths up to date. Changes outside `edits`
   * (even staged ones) are left alone and not committed. Throws CONCURRENT_UPDATE when the
   * branch moved since `expectedHead` (or since this call read it).
   */
  async commitFiles(args: { edits: FileEdit[]; message: string; expectedHead?: string | null }): Promise<string> {
    const branch = await this.currentBranch();
    if (!branch) {
      throw new MlopsError('DETACHED_HEAD', 'HEAD is detached: registry changes are commits on a branch', {
        hint: 'Check out a branch first, e.g. `git switch main`.',
      });
    }
    const head = await this.headOrNull();
    if (args.expectedHead !== undefined && args.expectedHead !== head) {
      throw concurrent(branch);
    }
    const commit = await this.buildCommit(head, args.edits, args.message);
    const u = await this.run(['update-ref', '-m', `mlops: ${args.message.split('\n')[0]}`, 'HEAD', commit, head ?? ZERO_OID]);
    if (u.code !== 0) throw concurrent(branch);
    await this.syncWorktree(args.edits);
    return commit;
  }

  /**
   * Makes one commit with `edits` on top of `parent` and points `branch` at it, without
   * touching the checkout (for PR branches). `expectedOld` is the branch's current value
   * (null: it must not exist); a mismatch is CONCURRENT_UPDATE.
   */
  async commitToBranch(args: { branch: string; parent: string; edits: FileEdit[]; message: string; expectedOld: string | null }): Promise<string> {
    if ((await this.currentBranch()) === args.branch) throw new MlopsError('INTERNAL', `commitToBranch on the checked-out branch ${args.branch}`);
    const commit = await this.buildCommit(args.parent, args.edits, args.message);
    await this.setBranch(args.branch, commit, args.expectedOld);
    return commit;
  }

  /** Points `branch` at `commit` if it still has `expectedOld` (null: must not exist). */
  async setBranch(branch: string, commit: string, expectedOld: string | null): Promise<void> {
    const u = await this.run(['update-ref', '-m', 'mlops: update branch', `refs/heads/${branch}`, commit, expectedOld ?? ZERO_OID]);
    if (u.code !== 0) throw concurrent(branch);
  }

  /** Builds a commit of `parent`'s tree plus `edits` on a temporary index; moves no ref. */
  private async buildCommit(parent: string | null, edits: FileEdit[], message: string): Promise<string> {
    const index = join(this.gitdir, `mlops-index-${process.pid}-${await tempSuffix()}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      if (parent) await this.runOk(['read-tree', parent], { env });
      else await this.runOk(['read-tree', '--empty'], { env });
      const lines: string[] = [];
      for (const edit of edits) {
        assertRepoPath(edit.path);
        if (edit.content === null) {
          lines.push(`0 ${ZERO_OID}\t${edit.path}`);
        } else {
          const oid = (await this.runOk(['hash-object', '-w', '--stdin'], { input: edit.content })).trim();
          lines.push(`${edit.executable ? '100755' : '100644'} ${oid}\t${edit.path}`);
        }
      }
      if (lines.length) await this.runOk(['update-index', '--index-info'], { input: lines.join('\n') + '\n', env });
      const tree = (await this.runOk(['write-tree'], { env })).trim();
      const commitArgs = ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'];
      const c = await this.run(commitArgs, { input: message });
      if (c.code !== 0) {
        if (/Please tell me who you are|unable to auto-detect email|empty ident/i.test(c.stderr)) {
          throw new MlopsError('GIT_IDENTITY_MISSING', 'git does not know who is committing', {
            hint: 'Set it with `git config user.name "Your Name"` and `git config user.email you@example.com` (in CI: the bot identity).',
          });
        }
        throw gitError(commitArgs, c);
      }
      return c.stdout.trim();
    } finally {
      await rm(index, { force: true });
    }
  }

  /** Writes the committed content of `edits` into the working tree and index. */
  private async syncWorktree(edits: FileEdit[]): Promise<void> {
    for (const edit of edits) {
      const abs = join(this.dir, edit.path);
      if (edit.content === null) {
        await rm(abs, { force: true });
      } else {
        await writeFileAtomic(abs, edit.content);
        if (edit.executable) await fs.promises.chmod(abs, 0o755);
      }
    }
    // Reset the index entries of the touched paths to HEAD (which now holds them).
    const paths = edits.map((e) => e.path);
    for (let i = 0; i < paths.length; i += 500) {
      await this.runOk(['reset', '-q', 'HEAD', '--', ...paths.slice(i, i + 500)]);
    }
  }

  async headOrNull(): Promise<string | null> {
    const r = await this.run(['rev-parse', '--verify', '-q', 'HEAD']);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  /**
   * `git revert --no-edit <commit>` with our message. Returns the new commit, or the
   * conflicting paths after aborting (the tree is then exactly as before).
   */
  async revert(commit: string, message: string): Promise<{ ok: true; commit: string } | { ok: false; conflicts: string[] }> {
    const r = await this.run(['revert', '--no-commit', commit]);
    if (r.code !== 0) {
      const conflicts = (await this.run(['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
      await this.run(['revert', '--abort']);
      if (conflicts.length === 0 && !/conflict/i.test(r.stdout + r.stderr)) throw gitError(['revert', commit], r);
      return { ok: false, conflicts };
    }
    const c = await this.run(['commit', '--no-verify', '-q', '-F', '-'], { input: message });
    if (c.code !== 0) {
      await this.run(['revert', '--abort']);
      await this.run(['reset', '-q', '--merge']);
      throw gitError(['commit'], c);
    }
    return { ok: true, commit: (await this.runOk(['rev-parse', 'HEAD'])).trim() };
  }

  /** Creates an annotated tag; fails when it exists. */
  async createTag(name: string, commit: string, message: string): Promise<void> {
    await this.runOk(['tag', '-a', name, commit, '-F', '-'], { input: message });
  }

  async push(remote: string, refspecs: string[], opts: { force?: boolean; atomic?: boolean } = {}): Promise<void> {
    const args = ['push', '--porcelain', ...(opts.atomic ? ['--atomic'] : []), ...(opts.force ? ['--force-with-lease'] : []), remote, ...refspecs];
    const r = await this.run(args);
    if (r.code !== 0) {
      if (/rejected|non-fast-forward|fetch first|stale info/i.test(r.stdout + r.stderr)) {
        throw new MlopsError('PUSH_REJECTED', `git push to ${remote} was rejected: ${firstLine(r.stderr || r.stdout)}`, {
          hint: 'The remote moved on. Pull (or fetch and rebase) and run the command again.',
          data: { remote, refspecs },
        });
      }
      throw gitError(args, r);
    }
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n').find((l) => l.trim()) ?? '';
}

function concurrent(branch: string): MlopsError {
  return new MlopsError('CONCURRENT_UPDATE', `branch ${branch} moved while the change was being made`, {
    hint: 'Another process committed at the same time; run the command again.',
  });
}

function gitError(args: string[], r: GitResult): MlopsError {
  return new MlopsError('GIT_FAILED', `git ${args[0]} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`, {
    hint: 'See the git message above.',
    data: { args: args.slice(0, 4), stderr: r.stderr.slice(0, 2000) },
  });
}

function assertRepoPath(path: string): void {
  if (!path || isAbsolute(path) || path.split('/').some((p) => p === '..' || p === '' || p === '.git') || path.includes('\\')) {
    throw new MlopsError('INTERNAL', `refusing to write outside the repository: ${path}`);
  }
}

function parseLog(out: string, path: string | null): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const rec of out.split('\x1e')) {
    if (!rec.trim()) continue;
    const f = rec.split('\x1f');
    const [commit, parents, name, email, date, committerDate, message] = f;
    const entry: LogEntry = {
      commit: commit!.trim(),
      parents: parents ? parents.split(' ').filter(Boolean) : [],
      author: { name: name ?? '', email: email ?? '' },
      date: date ?? '',
      committerDate: committerDate ?? '',
      message: (message ?? '').replace(/\n+$/, ''),
      subject: (message ?? '').split('\n')[0] ?? '',
    };
    if (path !== null) {
      const raw = f[7] ?? '';
      // ":100644 100644 <old> <new> M\tpath"
      const m = /^:\d{6} \d{6} ([0-9a-f]{40}) ([0-9a-f]{40}) \w+\t/m.exec(raw);
      if (m) {
        entry.before = m[1] === ZERO_OID ? null : m[1]!;
        entry.after = m[2] === ZERO_OID ? null : m[2]!;
      }
    }
    entries.push(entry);
  }
  return entries;
}
