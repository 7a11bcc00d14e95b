// The forge boundary: pull requests and incident issues as plain data, behind one interface with
// two implementations (GitHub through Octokit, and a local one for teams on plain git). Callers
// push branches with git; the forge only opens, updates and closes things, idempotently.
import type { GitRepo } from '../git/repo.js';

/** What a pull request should look like; the forge makes it so. */
export interface PullRequestSpec {
  title: string;
  body: string;
  /** The branch holding the change, e.g. `mlops/retrain/backlink-success`. */
  head: string;
  /** The branch it merges into, e.g. `main`. */
  base: string;
  labels: string[];
  /** Only used when the PR is created: an open PR's draft flag is left as reviewers set it. */
  draft?: boolean;
}

export interface PullRequest {
  number: number;
  url: string;
  title: string;
  body: string;
  head: string;
  base: string;
  labels: string[];
  draft: boolean;
  state: 'open' | 'closed' | 'merged';
}

export interface EnsurePullRequestResult {
  number: number;
  url: string;
  action: 'created' | 'updated' | 'unchanged';
}

export interface IssueSpec {
  /** Incident key: one open issue per key, found by a hidden marker in its body. */
  key: string;
  title: string;
  body: string;
  labels: string[];
}

export interface Issue {
  number: number;
  url: string;
  key: string;
  title: string;
  /** The body as stored, marker included. */
  body: string;
  labels: string[];
  state: 'open' | 'closed';
}

export interface EnsureIssueResult {
  number: number;
  url: string;
  action: 'opened' | 'commented';
}

export interface PushBranchResult {
  pushed: boolean;
  remote: string | null;
}

export interface Forge {
  readonly kind: 'github' | 'local';
  /**
   * Opens the PR for `spec.head`, or brings the open one up to date: title, body and base are
   * rewritten only when they differ, missing labels are added (labels added by people stay).
   * Never opens a second PR for a head that has one open.
   */
  ensurePullRequest(spec: PullRequestSpec): Promise<EnsurePullRequestResult>;
  findOpenPullRequest(head: string): Promise<PullRequest | null>;
  closePullRequest(number: number, comment?: string): Promise<void>;
  /** Opens the incident's issue, or comments on the one already open for `key`. */
  ensureIssue(spec: IssueSpec): Promise<EnsureIssueResult>;
  /** The open issue of an incident, or null. */
  findIssue(key: string): Promise<Issue | null>;
  /** Rewrites an issue's body (the incident marker is kept whatever `body` says). */
  updateIssueBody(number: number, key: string, body: string): Promise<void>;
  /** Comments on and closes the incident's open issue; null when there is none. */
  closeIssue(args: { key: string; comment?: string }): Promise<{ number: number; url: string } | null>;
  /** Pushes `branch` to the forge's remote (a no-op for a local forge without one). */
  pushBranch(repo: GitRepo, branch: string, opts?: { force?: boolean }): Promise<PushBranchResult>;
}
