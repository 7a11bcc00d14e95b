// The forge for teams on plain git: a pull request is a local branch plus a small JSON record,
// an incident issue is a record too. Records live under the git directory (`.git/mlops/prs/`,
// `.git/mlops/issues/`), never in the working tree, so they are neither committed nor dirty the
// registry. They behave like GitHub's: one open PR per head branch, numbers shared by PRs and
// issues, and `mergePullRequest` lands the branch with a real merge commit.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MlopsError } from '../errors.js';
import { GitRepo } from '../git/repo.js';
import { writeFileAtomic } from '../util/fs.js';
import { checkPullRequestSpec } from './check-spec.js';
import { sameText, withIncidentMarker } from './markers.js';
import type {
  EnsureIssueResult,
  EnsurePullRequestResult,
  Forge,
  Issue,
  IssueSpec,
  PullRequest,
  PullRequestSpec,
  PushBranchResult,
} from './types.js';

export interface LocalForgeOptions {
  repo: GitRepo;
  /** Remote `pushBranch` pushes to when the repository has it (e.g. a shared bare repository). */
  remote?: string | null;
  /** Clock of the records' timestamps. */
  now?: () => Date;
}

interface Comment {
  body: string;
  at: string;
}

export interface LocalPullRequestRecord {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  labels: string[];
  draft: boolean;
  state: 'open' | 'closed' | 'merged';
  comments: Comment[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  merged_at: string | null;
  merge_commit: string | null;
}

export interface LocalIssueRecord {
  number: number;
  key: string;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  comments: Comment[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface MergeResult {
  number: number;
  base: string;
  head: string;
  method: 'merge' | 'squash';
  /** The commit now at the tip of base. */
  commit: string;
}

/** How long a writer waits for another one before giving up. */
const LOCK_WAIT_MS = 60_000;
/** A lock without a pid file (its owner died between mkdir and write) is stale after this. */
const LOCK_PIDLESS_STALE_MS = 10_000;

export class LocalForge implements Forge {
  readonly kind = 'local' as const;
  readonly repo: GitRepo;
  private readonly remote: string | null;
  private readonly now: () => Date;
  private root?: string;

  constructor(options: LocalForgeOptions) {
    this.repo = options.repo;
    this.remote = options.remote ?? null;
    this.now = options.now ?? (() => new Date());
  }

  // ---- pull requests ----

  async findOpenPullRequest(head: string): Promise<PullRequest | null> {
    const record = (await this.pulls()).find((p) => p.state === 'open' && p.head === head);
    return record ? this.toPullRequest(record) : null;
  }

  async ensurePullRequest(spec: PullRequestSpec): Promise<EnsurePullRequestResult> {
    checkPullRequestSpec(spec);
    return this.locked(async () => {
      const labels = [...new Set(spec.labels)];
      const at = this.now().toISOString();
      const open = (await this.pulls()).filter((p) => p.state === 'open' && p.head === spec.head);
      const record = open.find((p) => p.base === spec.base) ?? open[0];
      if (!record) {
        const headTip = await this.branchTip(spec.head);
        const baseTip = await this.branchTip(spec.base);
        if (await this.isAncestor(headTip, baseTip)) {
          throw new MlopsError('FORGE_UNPROCESSABLE', `no commits between ${spec.base} and ${spec.head}: there is nothing to review`, {
            hint: `Commit the change on ${spec.head} first.`,
          });
        }
        const created: LocalPullRequestRecord = {
          number: await this.nextNumber(),
          title: spec.title,
          body: spec.body,
          head: spec.head,
          base: spec.base,
          labels,
          draft: spec.draft ?? false,
          state: 'open',
          comments: [],
          created_at: at,
          updated_at: at,
          closed_at: null,
          merged_at: null,
          merge_commit: null,
        };
        await this.save('prs', created);
        return { number: created.number, url: this.url('prs', created.number), action: 'created' };
      }
      const missing = labels.filter((l) => !record.labels.includes(l));
      const changed = !sameText(record.title, spec.title) || !sameText(record.body, spec.body) || record.base !== spec.base || missing.length > 0;
      if (record.base !== spec.base) await this.branchTip(spec.base);
      Object.assign(record, { title: spec.title, body: spec.body, base: spec.base, labels: [...record.labels, ...missing] });
      if (changed) {
        record.updated_at = at;
        await this.save('prs', record);
      }
      return { number: record.number, url: this.url('prs', record.number), action: changed ? 'updated' : 'unchanged' };
    });
  }

  async closePullRequest(number: number, comment?: string): Promise<void> {
    await this.locked(async () => {
      const record = (await this.pulls()).find((p) => p.number === number);
      if (!record) throw notFound(`pull request #${number}`);
      const at = this.now().toISOString();
      if (comment) record.comments.push({ body: comment, at });
      if (record.state === 'open') Object.assign(record, { state: 'closed', closed_at: at });
      record.updated_at = at;
      await this.save('prs', record);
    });
  }

  /**
   * Lands the open PR of `head` on its base, like GitHub's merge button: `merge` makes a real
   * merge commit (`git merge --no-ff`), `squash` one commit with the PR's title. The working tree
   * must be clean. When the base is checked out it is merged in place; otherwise the merge runs
   * in a temporary worktree and the base branch is moved with a compare-and-swap, so the
   * current checkout is left alone.
   */
  async mergePullRequest(
    head: string,
    opts: { method?: 'merge' | 'squash'; message?: string; deleteBranch?: boolean } = {},
  ): Promise<MergeResult> {
    const method = opts.method ?? 'merge';
    return this.locked(async () => {
      const record = (await this.pulls()).find((p) => p.state === 'open' && p.head === head);
      if (!record) throw notFound(`an open pull request for branch ${head}`);
      const dirty = (await this.repo.runOk(['status', '--porcelain', '--untracked-files=no'])).split('\n').filter(Boolean);
      if (dirty.length) {
        throw new MlopsError('DIRTY_REGISTRY', `cannot merge #${record.number}: the working tree has uncommitted changes (${dirty.slice(0, 5).map((l) => l.slice(3)).join(', ')}${dirty.length > 5 ? ', ...' : ''})`, {
          hint: 'Commit or discard the changes, then merge again.',
        });
      }
      const baseTip = await this.branchTip(record.base);
      const headTip = await this.branchTip(record.head);
      if (await this.isAncestor(headTip, baseTip)) {
        throw new MlopsError('FORGE_UNPROCESSABLE', `nothing to merge: ${record.base} already contains ${record.head}`, {
          hint: `Close the pull request with \`closePullRequest(${record.number})\` instead.`,
        });
      }
      const message = opts.message ?? (method === 'merge'
        ? `Merge pull request #${record.number} from ${record.head}\n\n${record.title}\n`
        : `${record.title} (#${record.number})\n`);

      let commit: string;
      if ((await this.repo.currentBranch()) === record.base) {
        commit = await mergeIn(this.repo, headTip, method, message, record);
      } else {
        commit = await this.mergeInWorktree(baseTip, headTip, method, message, record);
      }

      const at = this.now().toISOString();
      Object.assign(record, { state: 'merged', merged_at: at, closed_at: at, updated_at: at, merge_commit: commit });
      await this.save('prs', record);
      if (opts.deleteBranch && (await this.repo.currentBranch()) !== record.head) {
        await this.repo.runOk(['branch', '-D', record.head]);
      }
      return { number: record.number, base: record.base, head: record.head, method, commit };
    });
  }

  private async mergeInWorktree(baseTip: string, headTip: string, method: 'merge' | 'squash', message: string, record: LocalPullRequestRecord): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mlops-merge-'));
    try {
      await this.repo.runOk(['worktree', 'add', '--detach', '--quiet', dir, baseTip]);
      const commit = await mergeIn(await GitRepo.open(dir), headTip, method, message, record);
      const moved = await this.repo.run(['update-ref', '-m', `mlops: merge #${record.number}`, `refs/heads/${record.base}`, commit, baseTip]);
      if (moved.code !== 0) {
        throw new MlopsError('CONCURRENT_UPDATE', `branch ${record.base} moved while #${record.number} was being merged`, {
          hint: 'Another process committed at the same time; merge again.',
        });
      }
      return commit;
    } finally {
      await this.repo.run(['worktree', 'remove', '--force', dir]);
      await rm(dir, { recursive: true, force: true });
      await this.repo.run(['worktree', 'prune']);
    }
  }

  // ---- incident issues ----

  async findIssue(key: string): Promise<Issue | null> {
    const record = (await this.issues()).find((i) => i.state === 'open' && i.key === key);
    return record ? this.toIssue(record) : null;
  }

  async ensureIssue(spec: IssueSpec): Promise<EnsureIssueResult> {
    return this.locked(async () => {
      const at = this.now().toISOString();
      const open = (await this.issues()).find((i) => i.state === 'open' && i.key === spec.key);
      if (open) {
        open.comments.push({ body: spec.body, at });
        open.updated_at = at;
        await this.save('issues', open);
        return { number: open.number, url: this.url('issues', open.number), action: 'commented' };
      }
      const record: LocalIssueRecord = {
        number: await this.nextNumber(),
        key: spec.key,
        title: spec.title,
        body: withIncidentMarker(spec.body, spec.key),
        labels: [...new Set(spec.labels)],
        state: 'open',
        comments: [],
        created_at: at,
        updated_at: at,
        closed_at: null,
      };
      await this.save('issues', record);
      return { number: record.number, url: this.url('issues', record.number), action: 'opened' };
    });
  }

  async updateIssueBody(number: number, key: string, body: string): Promise<void> {
    await this.locked(async () => {
      const record = (await this.issues()).find((i) => i.number === number);
      if (!record) throw notFound(`issue #${number}`);
      record.body = withIncidentMarker(body, key);
      record.updated_at = this.now().toISOString();
      await this.save('issues', record);
    });
  }

  async closeIssue(args: { key: string; comment?: string }): Promise<{ number: number; url: string } | null> {
    return this.locked(async () => {
      const record = (await this.issues()).find((i) => i.state === 'open' && i.key === args.key);
      if (!record) return null;
      const at = this.now().toISOString();
      if (args.comment) record.comments.push({ body: args.comment, at });
      Object.assign(record, { state: 'closed', closed_at: at, updated_at: at });
      await this.save('issues', record);
      return { number: record.number, url: this.url('issues', record.number) };
    });
  }

  // ---- git ----

  async pushBranch(repo: GitRepo, branch: string, opts: { force?: boolean } = {}): Promise<PushBranchResult> {
    if (!this.remote || (await repo.run(['remote', 'get-url', this.remote])).code !== 0) return { pushed: false, remote: null };
    await repo.push(this.remote, [`refs/heads/${branch}:refs/heads/${branch}`], { force: opts.force });
    return { pushed: true, remote: this.remote };
  }

  // ---- records ----

  /** All PR records, oldest first. */
  async pulls(): Promise<LocalPullRequestRecord[]> {
    return this.load<LocalPullRequestRecord>('prs');
  }

  /** All issue records, oldest first. */
  async issues(): Promise<LocalIssueRecord[]> {
    return this.load<LocalIssueRecord>('issues');
  }

  /** `<git common dir>/mlops`: shared by every worktree of the repository. */
  async dir(): Promise<string> {
    if (!this.root) {
      const common = (await this.repo.runOk(['rev-parse', '--git-common-dir'])).trim();
      this.root = join(resolve(this.repo.dir, common), 'mlops');
    }
    return this.root;
  }

  private async load<T extends { number: number }>(kind: 'prs' | 'issues'): Promise<T[]> {
    const dir = join(await this.dir(), kind);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: T[] = [];
    for (const name of names) {
      if (!/^\d+\.json$/.test(name)) continue;
      const path = join(dir, name);
      try {
        out.push(JSON.parse(await readFile(path, 'utf8')) as T);
      } catch (cause) {
        throw new MlopsError('FORGE_UNPROCESSABLE', `local forge record ${path} is not valid JSON`, { cause, hint: 'Fix or delete the file.' });
      }
    }
    return out.sort((a, b) => a.number - b.number);
  }

  private async save(kind: 'prs' | 'issues', record: { number: number }): Promise<void> {
    await writeFileAtomic(join(await this.dir(), kind, `${record.number}.json`), JSON.stringify(record, null, 2) + '\n');
  }

  private url(kind: 'prs' | 'issues', number: number): string {
    return pathToFileURL(join(this.root!, kind, `${number}.json`)).href;
  }

  /** Like GitHub, PRs and issues share one sequence of numbers. */
  private async nextNumber(): Promise<number> {
    const all = [...(await this.pulls()), ...(await this.issues())];
    return all.reduce((m, r) => Math.max(m, r.number), 0) + 1;
  }

  private toPullRequest(r: LocalPullRequestRecord): PullRequest {
    return { number: r.number, url: this.url('prs', r.number), title: r.title, body: r.body, head: r.head, base: r.base, labels: [...r.labels], draft: r.draft, state: r.state };
  }

  private toIssue(r: LocalIssueRecord): Issue {
    return { number: r.number, url: this.url('issues', r.number), key: r.key, title: r.title, body: r.body, labels: [...r.labels], state: r.state };
  }

  private async branchTip(branch: string): Promise<string> {
    const r = await this.repo.run(['rev-parse', '--verify', '-q', `refs/heads/${branch}^{commit}`]);
    if (r.code !== 0) {
      throw new MlopsError('FORGE_UNPROCESSABLE', `branch ${branch} does not exist in ${this.repo.dir}`, {
        hint: `Create and commit to ${branch} first (the local forge reviews local branches).`,
      });
    }
    return r.stdout.trim();
  }

  private async isAncestor(a: string, b: string): Promise<boolean> {
    return (await this.repo.run(['merge-base', '--is-ancestor', a, b])).code === 0;
  }

  /**
   * Serialises writers across processes with a lock directory (mkdir is atomic) holding the
   * owner's pid: two retrains at once still end with one PR record per branch. A lock whose
   * owner is no longer running (a crash) is broken; a live owner is waited for.
   */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const root = await this.dir();
    await mkdir(root, { recursive: true });
    const lock = join(root, 'lock');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await mkdir(lock);
        await writeFile(join(lock, 'pid'), String(process.pid));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (await lockIsStale(lock)) {
          // Re-checked just before: another waiter may have broken it and taken it already.
          if (await lockIsStale(lock)) await rm(lock, { recursive: true, force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new MlopsError('CONCURRENT_UPDATE', `the local forge is locked by another process (${lock})`, {
            hint: 'Wait for the other mlops command to finish; delete the lock directory if no such process runs.',
          });
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }

}

async function lockIsStale(lock: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(await readFile(join(lock, 'pid'), 'utf8'));
  } catch {
    const age = await stat(lock).then((st) => Date.now() - st.mtimeMs, () => 0);
    return age > LOCK_PIDLESS_STALE_MS;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function notFound(what: string): MlopsError {
  return new MlopsError('FORGE_NOT_FOUND', `the local forge has no ${what}`, {
    hint: 'List the open ones with the local forge records under .git/mlops/, or open the PR again.',
  });
}

/** Runs the merge in `wt` (its HEAD at the base tip) and returns the new commit; aborts cleanly on conflict. */
async function mergeIn(wt: GitRepo, headTip: string, method: 'merge' | 'squash', message: string, record: LocalPullRequestRecord): Promise<string> {
  const args = method === 'merge' ? ['merge', '--no-ff', '--no-edit', '-m', message, headTip] : ['merge', '--squash', headTip];
  const r = await wt.run(args, { env: { GIT_EDITOR: 'true' } });
  if (r.code !== 0) {
    const conflicts = (await wt.run(['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
    // --squash leaves no MERGE_HEAD, so `merge --abort` cannot undo it; `reset --merge` undoes both.
    await wt.run(['reset', '-q', '--merge']);
    if (conflicts.length) {
      throw new MlopsError('MERGE_CONFLICT', `#${record.number} (${record.head}) does not merge cleanly into ${record.base}: ${conflicts.join(', ')}`, {
        hint: `Merge ${record.base} into ${record.head} and resolve the conflicts, or re-run the command that produced the branch.`,
        data: { conflicts },
      });
    }
    throw gitFailure(args, r.stderr || r.stdout);
  }
  if (method === 'squash') {
    const c = await wt.run(['commit', '--no-verify', '-q', '-F', '-'], { input: message });
    if (c.code !== 0) {
      await wt.run(['reset', '-q', '--merge']);
      throw gitFailure(['commit'], c.stderr || c.stdout);
    }
  }
  return (await wt.runOk(['rev-parse', 'HEAD'])).trim();
}

function gitFailure(args: string[], output: string): MlopsError {
  if (/Please tell me who you are|unable to auto-detect email|empty ident/i.test(output)) {
    return new MlopsError('GIT_IDENTITY_MISSING', 'git does not know who is committing the merge', {
      hint: 'Set it with `git config user.name "Your Name"` and `git config user.email you@example.com`.',
    });
  }
  const line = output.trim().split('\n').find((l) => l.trim()) ?? '';
  return new MlopsError('GIT_FAILED', `git ${args[0]} failed: ${line}`, { hint: 'See the git message above.', data: { stderr: output.slice(0, 2000) } });
}
