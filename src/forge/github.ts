// The only code that talks to GitHub. Octokit with the retry plugin (5xx and timeouts, with
// backoff) and the throttling plugin (rate-limit headers, Retry-After and secondary limits, with
// a bounded wait). Every failure leaves as an MlopsError with a FORGE_* code and a hint, and the
// token is redacted from everything that leaves this file.
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { MlopsError, isMlopsError, type ErrorCode } from '../errors.js';
import type { GitRepo } from '../git/repo.js';
import { checkPullRequestSpec } from './check-spec.js';
import { hasIncidentMarker, sameText, withIncidentMarker } from './markers.js';
import { redact } from './redact.js';
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

const ForgeOctokit = Octokit.plugin(retry, throttling);
type Client = InstanceType<typeof ForgeOctokit>;

/** Every incident issue carries this label, so finding one lists only incident issues. */
export const INCIDENT_LABEL = 'mlops-incident';

export const DEFAULT_API_URL = 'https://api.github.com';

export interface GitHubForgeOptions {
  /** `owner/name`. */
  repository: string;
  /** Absent: every call fails with FORGE_TOKEN_MISSING (so other notifiers still run). */
  token?: string;
  /** REST base URL: GitHub Enterprise's `https://host/api/v3`, or a test server. */
  apiUrl?: string;
  /** Remote `pushBranch` pushes to. Default `origin`. */
  remote?: string;
  /** Per attempt, headers and body. Default 30 s. */
  timeoutMs?: number;
  /** Retries of a 5xx, a network error or a timeout. Default 3. */
  retries?: number;
  /** Backoff unit: retry n waits n² units (1, 4, 9...). Default 1000 ms. */
  retryBaseMs?: number;
  rateLimit?: {
    /** Longest wait for a rate limit to lift before giving up with FORGE_RATE_LIMITED. Default 60 s. */
    maxWaitMs?: number;
    /** Waits per request. Default 2. */
    maxRetries?: number;
    /** Length of the "second" GitHub's Retry-After and reset headers count in. Tests shrink it. */
    secondMs?: number;
  };
  /**
   * Minimum spacing of write requests. Unset: the throttling plugin's spacing, which follows
   * GitHub's advice (1 s between writes, 3 s between writes that notify people).
   */
  writeSpacingMs?: number;
  /** Warnings (rate-limit waits, retries), already redacted. */
  log?: (line: string) => void;
}

interface RequestErrorLike {
  status?: number;
  message?: string;
  name?: string;
  cause?: unknown;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

type PullData = {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  state: string;
  draft?: boolean;
  merged_at?: string | null;
  head: { ref: string };
  base: { ref: string };
  labels: Array<{ name?: string } | string>;
};

type IssueData = {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
  state: string;
  labels: Array<{ name?: string } | string>;
  pull_request?: unknown;
};

export class GitHubForge implements Forge {
  readonly kind = 'github' as const;
  readonly owner: string;
  readonly repo: string;
  readonly remote: string;
  private readonly token?: string;
  private client?: Client;

  constructor(private readonly options: GitHubForgeOptions) {
    const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(options.repository);
    if (!m) {
      throw new MlopsError('CONFIG_INVALID', `forge repository "${options.repository}" is not of the form owner/name`, {
        hint: 'Set forge.repository in mlops.config.json (e.g. "acme/models") or GITHUB_REPOSITORY.',
      });
    }
    this.owner = m[1]!;
    this.repo = m[2]!;
    this.remote = options.remote ?? 'origin';
    this.token = options.token || undefined;
  }

  // ---- pull requests ----

  async findOpenPullRequest(head: string): Promise<PullRequest | null> {
    const open = await this.listOpenPulls(head);
    return open[0] ?? null;
  }

  async ensurePullRequest(spec: PullRequestSpec): Promise<EnsurePullRequestResult> {
    checkPullRequestSpec(spec);
    const labels = [...new Set(spec.labels)];
    const open = await this.listOpenPulls(spec.head);
    let pr: PullRequest | null = open.find((p) => p.base === spec.base) ?? open[0] ?? null;
    if (!pr) {
      const created = await this.call(`open a pull request from ${spec.head}`, (o) =>
        o.rest.pulls.create({ owner: this.owner, repo: this.repo, title: spec.title, body: spec.body, head: spec.head, base: spec.base, draft: spec.draft ?? false }),
      ).catch((e: unknown) => {
        // Another run opened it between our lookup and our create: bring that one up to date instead.
        if (isMlopsError(e) && e.code === 'FORGE_UNPROCESSABLE' && /already exists/i.test(e.message)) return null;
        throw e;
      });
      if (created) {
        if (labels.length) await this.addLabels(created.data.number, labels);
        return { number: created.data.number, url: created.data.html_url, action: 'created' };
      }
      pr = await this.findOpenPullRequest(spec.head);
      if (!pr) {
        throw new MlopsError('FORGE_UNPROCESSABLE', `GitHub says a pull request from ${spec.head} exists, yet none is open in ${this.owner}/${this.repo}`, {
          hint: 'It was probably closed a moment ago by someone else: run the command again.',
        });
      }
    }
    const patch: { title?: string; body?: string; base?: string } = {};
    if (!sameText(pr.title, spec.title)) patch.title = spec.title;
    if (!sameText(pr.body, spec.body)) patch.body = spec.body;
    if (pr.base !== spec.base) patch.base = spec.base;
    const changed = Object.keys(patch).length > 0;
    if (changed) {
      const number = pr.number;
      await this.call(`update pull request #${number}`, (o) => o.rest.pulls.update({ owner: this.owner, repo: this.repo, pull_number: number, ...patch }));
    }
    const current = pr.labels;
    const missing = labels.filter((l) => !current.includes(l));
    if (missing.length) await this.addLabels(pr.number, missing);
    return { number: pr.number, url: pr.url, action: changed || missing.length ? 'updated' : 'unchanged' };
  }

  async closePullRequest(number: number, comment?: string): Promise<void> {
    if (comment) await this.comment(number, comment);
    await this.call(`close pull request #${number}`, (o) => o.rest.pulls.update({ owner: this.owner, repo: this.repo, pull_number: number, state: 'closed' }));
  }

  // ---- incident issues ----

  async findIssue(key: string): Promise<Issue | null> {
    return this.call(`look up the issue of incident ${key}`, async (o) => {
      const pages = o.paginate.iterator(o.rest.issues.listForRepo, {
        owner: this.owner,
        repo: this.repo,
        state: 'open',
        labels: INCIDENT_LABEL,
        per_page: 100,
      });
      for await (const page of pages) {
        for (const i of page.data as IssueData[]) {
          // The issues list holds pull requests too; only a real issue can be an incident.
          if (!i.pull_request && hasIncidentMarker(i.body, key)) return toIssue(i, key);
        }
      }
      return null;
    });
  }

  async ensureIssue(spec: IssueSpec): Promise<EnsureIssueResult> {
    const existing = await this.findIssue(spec.key);
    if (existing) {
      await this.comment(existing.number, spec.body);
      return { number: existing.number, url: existing.url, action: 'commented' };
    }
    const { data } = await this.call(`open the issue of incident ${spec.key}`, (o) =>
      o.rest.issues.create({
        owner: this.owner,
        repo: this.repo,
        title: spec.title,
        body: withIncidentMarker(spec.body, spec.key),
        labels: [...new Set([INCIDENT_LABEL, ...spec.labels])],
      }),
    );
    return { number: data.number, url: data.html_url, action: 'opened' };
  }

  async updateIssueBody(number: number, key: string, body: string): Promise<void> {
    await this.call(`update issue #${number}`, (o) =>
      o.rest.issues.update({ owner: this.owner, repo: this.repo, issue_number: number, body: withIncidentMarker(body, key) }),
    );
  }

  async closeIssue(args: { key: string; comment?: string }): Promise<{ number: number; url: string } | null> {
    const issue = await this.findIssue(args.key);
    if (!issue) return null;
    if (args.comment) await this.comment(issue.number, args.comment);
    await this.call(`close issue #${issue.number}`, (o) =>
      o.rest.issues.update({ owner: this.owner, repo: this.repo, issue_number: issue.number, state: 'closed', state_reason: 'completed' }),
    );
    return { number: issue.number, url: issue.url };
  }

  // ---- git ----

  async pushBranch(repo: GitRepo, branch: string, opts: { force?: boolean } = {}): Promise<PushBranchResult> {
    await repo.push(this.remote, [`refs/heads/${branch}:refs/heads/${branch}`], { force: opts.force });
    return { pushed: true, remote: this.remote };
  }

  // ---- plumbing ----

  private async listOpenPulls(head: string): Promise<PullRequest[]> {
    const { data } = await this.call(`look up the open pull request of ${head}`, (o) =>
      o.rest.pulls.list({ owner: this.owner, repo: this.repo, state: 'open', head: `${this.owner}:${head}`, per_page: 100 }),
    );
    return (data as PullData[]).map(toPullRequest).sort((a, b) => a.number - b.number);
  }

  private async addLabels(number: number, labels: string[]): Promise<void> {
    await this.call(`label #${number}`, (o) => o.rest.issues.addLabels({ owner: this.owner, repo: this.repo, issue_number: number, labels }));
  }

  private async comment(number: number, body: string): Promise<void> {
    await this.call(`comment on #${number}`, (o) => o.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: number, body }));
  }

  private log(line: string): void {
    this.options.log?.(redact(line, [this.token]));
  }

  private octokit(): Client {
    if (!this.token) {
      throw new MlopsError('FORGE_TOKEN_MISSING', `no GitHub token to reach ${this.owner}/${this.repo}`, {
        hint: 'Set MLOPS_TOKEN (a token that can trigger workflows) or GITHUB_TOKEN; in a workflow pass `env: MLOPS_TOKEN: ${{ secrets.MLOPS_TOKEN }}`.',
      });
    }
    if (this.client) return this.client;
    const o = this.options;
    const timeoutMs = o.timeoutMs ?? 30_000;
    const secondMs = o.rateLimit?.secondMs ?? 1000;
    const maxWaitMs = o.rateLimit?.maxWaitMs ?? 60_000;
    const maxRetries = o.rateLimit?.maxRetries ?? 2;
    const onLimit = (which: string) => (retryAfter: number, req: { method?: string; url?: string }, _o: unknown, retryCount: number) => {
      const waitMs = retryAfter * secondMs;
      if (retryCount >= maxRetries || waitMs > maxWaitMs) return false;
      this.log(`GitHub ${which} on ${req.method} ${req.url}: waiting ${retryAfter}s before retry ${retryCount + 1}`);
      return true;
    };
    // Each attempt gets its own deadline: one signal for the whole call would leave retries no time.
    const fetchWithTimeout: typeof fetch = (input, init = {}) => {
      const deadline = AbortSignal.timeout(timeoutMs);
      return fetch(input, { ...init, signal: init.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
    };
    const spacing = o.writeSpacingMs === undefined ? {} : { write: spacingGroup(o.writeSpacingMs), notifications: spacingGroup(o.writeSpacingMs) };
    this.client = new ForgeOctokit({
      auth: this.token,
      baseUrl: (o.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, ''),
      userAgent: 'mlops-gitops',
      request: { fetch: fetchWithTimeout },
      // 429 is left to the throttling plugin, which reads the rate-limit headers.
      retry: { retries: o.retries ?? 3, retryAfterBaseValue: o.retryBaseMs ?? 1000, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451] },
      throttle: {
        onRateLimit: onLimit('rate limit'),
        onSecondaryRateLimit: onLimit('secondary rate limit'),
        retryAfterBaseValue: secondMs,
        ...(spacing as object),
      },
      log: {
        debug: () => {},
        info: () => {},
        warn: (msg: string) => this.log(String(msg)),
        error: (msg: string) => this.log(String(msg)),
      },
    });
    return this.client;
  }

  private async call<T>(what: string, fn: (o: Client) => Promise<T>): Promise<T> {
    const client = this.octokit();
    try {
      return await fn(client);
    } catch (e) {
      throw this.toError(e, what);
    }
  }

  private toError(e: unknown, what: string): MlopsError {
    if (isMlopsError(e)) return e;
    const err = (e ?? {}) as RequestErrorLike;
    const status = typeof err.status === 'number' ? err.status : 0;
    const headers = err.response?.headers ?? {};
    const data = (err.response?.data ?? {}) as { message?: string; errors?: Array<{ message?: string; code?: string; field?: string } | string>; documentation_url?: string };
    const details = (data.errors ?? [])
      .map((x) => (typeof x === 'string' ? x : x.message ?? [x.field, x.code].filter(Boolean).join(' ')))
      .filter(Boolean);
    const ghMessage = [data.message ?? err.message ?? 'unknown error', ...details].join(': ');
    const timedOut = isTimeout(e);
    const where = `${this.owner}/${this.repo}`;
    const secrets = [this.token];
    const make = (code: ErrorCode, message: string, hint: string) =>
      new MlopsError(code, redact(message, secrets), {
        hint: redact(hint, secrets),
        data: {
          repository: where,
          operation: what,
          status: status || null,
          github_message: redact(ghMessage, secrets),
          request_id: headers['x-github-request-id'] ?? null,
        },
        // The raw error holds request options; keep only its redacted words.
        cause: new Error(redact(String(err.message ?? e), secrets)),
      });

    const limited = (status === 403 || status === 429) && (headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(ghMessage));
    if (limited) {
      const reset = Number(headers['x-ratelimit-reset']);
      const after = Number(headers['retry-after']);
      const when = Number.isFinite(reset) && reset > 0
        ? `the limit resets at ${new Date(reset * 1000).toISOString()}`
        : Number.isFinite(after) && after > 0 ? `GitHub asks to wait ${after}s` : 'GitHub gave no reset time';
      return make('FORGE_RATE_LIMITED', `GitHub rate limit hit while trying to ${what} in ${where}: ${ghMessage} (${when})`,
        'Run again after the reset, space the runs out, or use a token with its own quota (MLOPS_TOKEN).');
    }
    if (status === 401) {
      return make('FORGE_AUTH', `GitHub rejected the token while trying to ${what} in ${where}: ${ghMessage} (HTTP 401)`,
        'The token in MLOPS_TOKEN or GITHUB_TOKEN is invalid or expired: create a new one.');
    }
    if (status === 403) {
      return make('FORGE_AUTH', `GitHub refused to ${what} in ${where}: ${ghMessage} (HTTP 403)`,
        'Give the token contents, pull-requests and issues write access (in a workflow: its `permissions:` block).');
    }
    if (status === 404) {
      return make('FORGE_NOT_FOUND', `GitHub found nothing while trying to ${what} in ${where}: ${ghMessage} (HTTP 404)`,
        'Check forge.repository (owner/name) and forge.api_url; GitHub also answers 404 when the token cannot see a private repository.');
    }
    if (status >= 400 && status < 500) {
      return make('FORGE_UNPROCESSABLE', `GitHub refused to ${what} in ${where}: ${ghMessage} (HTTP ${status})`,
        'Read GitHub\'s message: for pull requests, check that the branch was pushed and differs from the base.');
    }
    const retries = this.options.retries ?? 3;
    const cause = timedOut ? `no answer within ${this.options.timeoutMs ?? 30_000} ms` : status ? `${ghMessage} (HTTP ${status})` : ghMessage;
    return make('FORGE_UNAVAILABLE', `GitHub is unavailable: cannot ${what} in ${where}: ${cause}, after ${retries} ${retries === 1 ? 'retry' : 'retries'}`,
      'Try again later (see https://www.githubstatus.com); the command is safe to re-run.');
  }
}

function labelNames(labels: Array<{ name?: string } | string>): string[] {
  return labels.map((l) => (typeof l === 'string' ? l : l.name ?? '')).filter(Boolean);
}

function toPullRequest(d: PullData): PullRequest {
  return {
    number: d.number,
    url: d.html_url,
    title: d.title,
    body: d.body ?? '',
    head: d.head.ref,
    base: d.base.ref,
    labels: labelNames(d.labels),
    draft: d.draft === true,
    state: d.merged_at ? 'merged' : d.state === 'open' ? 'open' : 'closed',
  };
}

function toIssue(d: IssueData, key: string): Issue {
  return { number: d.number, url: d.html_url, key, title: d.title, body: d.body ?? '', labels: labelNames(d.labels), state: d.state === 'open' ? 'open' : 'closed' };
}

function isTimeout(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const c = cur as { name?: string; message?: string };
    if (c.name === 'TimeoutError' || /aborted due to timeout/i.test(c.message ?? '')) return true;
  }
  return false;
}

/**
 * Stand-in for the throttling plugin's Bottleneck write groups, which space writes by 1-3 s
 * process-wide: it only needs `key(id).schedule(options, fn, ...args)`. Used when the caller sets
 * `writeSpacingMs` (tests, or a GitHub Enterprise with other limits).
 */
function spacingGroup(ms: number) {
  let last = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const limiter = {
    schedule<A extends unknown[], R>(_opts: unknown, fn: (...args: A) => Promise<R> | R, ...args: A): Promise<R> {
      const run = chain.then(async () => {
        const wait = last + ms - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        last = Date.now();
        return fn(...args);
      });
      chain = run.catch(() => undefined);
      return run;
    },
  };
  return { key: () => limiter };
}
