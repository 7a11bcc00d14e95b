import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubForge, INCIDENT_LABEL, type GitHubForgeOptions } from '../../src/forge/github.js';
import { incidentMarker } from '../../src/forge/markers.js';
import type { PullRequestSpec } from '../../src/forge/types.js';
import { MlopsError } from '../../src/errors.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';

let server: GitHubServer;
let logs: string[];

beforeEach(async () => {
  server = await startGitHubServer();
  logs = [];
});

afterEach(async () => {
  // Every request the forge made must have been a valid GitHub REST request.
  expect(server.violations).toEqual([]);
  await server.close();
});

function forge(overrides: Partial<GitHubForgeOptions> = {}): GitHubForge {
  return new GitHubForge({
    repository: `${server.owner}/${server.repo}`,
    token: server.token,
    apiUrl: server.url,
    timeoutMs: 2000,
    retries: 2,
    retryBaseMs: 1,
    rateLimit: { secondMs: 1, maxWaitMs: 1000, maxRetries: 2 },
    writeSpacingMs: 0,
    log: (l) => logs.push(l),
    ...overrides,
  });
}

const spec: PullRequestSpec = {
  title: 'mlops(backlink-success): retrain v1.1.0',
  body: '| metric | new | production |\n|---|---|---|\n| auc | 0.871 | 0.866 |\n',
  head: 'mlops/retrain/backlink-success',
  base: 'main',
  labels: ['mlops', 'retrain'],
};

describe('GitHubForge pull requests', () => {
  it('opens the pull request with its labels', async () => {
    const r = await forge().ensurePullRequest({ ...spec, draft: true });
    expect(r.action).toBe('created');
    expect(r.url).toBe(`https://github.test/${server.owner}/${server.repo}/pull/${r.number}`);
    const [pr] = server.pulls();
    expect(pr).toMatchObject({ number: r.number, title: spec.title, body: spec.body, labels: ['mlops', 'retrain'], pull: { head: spec.head, base: 'main', draft: true } });
    expect(server.requests.map((q) => q.operationId)).toEqual(['pulls/list', 'pulls/create', 'issues/add-labels']);
    expect(server.requests[0]!.query).toMatchObject({ state: 'open', head: `${server.owner}:${spec.head}` });
  });

  it('rewrites the same pull request only when its title or body changed', async () => {
    const f = forge();
    const first = await f.ensurePullRequest(spec);
    const again = await f.ensurePullRequest(spec);
    expect(again).toEqual({ ...first, action: 'unchanged' });
    expect(server.count('pulls/update')).toBe(0);

    const changed = await f.ensurePullRequest({ ...spec, body: spec.body + '\nDataset: +1,204 rows\n' });
    expect(changed).toEqual({ ...first, action: 'updated' });
    expect(server.count('pulls/update')).toBe(1);
    expect(server.requests.find((q) => q.operationId === 'pulls/update')!.body).toEqual({ body: spec.body + '\nDataset: +1,204 rows\n' });

    await f.ensurePullRequest({ ...spec, body: spec.body + '\nDataset: +1,204 rows\n' });
    expect(server.count('pulls/update')).toBe(1);
    expect(server.count('pulls/create')).toBe(1);
    expect(server.pulls()).toHaveLength(1);
  });

  it('does not rewrite a body GitHub stored with CRLF line endings', async () => {
    const f = forge();
    const { number } = await f.ensurePullRequest(spec);
    server.items.get(number)!.body = spec.body.replace(/\n/g, '\r\n');
    expect((await f.ensurePullRequest(spec)).action).toBe('unchanged');
    expect(server.count('pulls/update')).toBe(0);
  });

  it('never opens a second pull request, even when two runs race', async () => {
    const [a, b] = await Promise.all([forge().ensurePullRequest(spec), forge().ensurePullRequest(spec)]);
    expect(a.number).toBe(b.number);
    // Both looked before either created: the loser's create got GitHub's 422 and it took over.
    expect(server.count('pulls/create')).toBe(2);
    expect([a.action, b.action].filter((x) => x === 'created')).toHaveLength(1);
    expect(server.pulls()).toHaveLength(1);
    expect(server.pulls()[0]!.labels).toEqual(['mlops', 'retrain']);
  });

  it('adds missing labels and keeps the ones people added', async () => {
    const f = forge();
    const { number } = await f.ensurePullRequest({ ...spec, labels: ['mlops'] });
    server.items.get(number)!.labels.push('needs-review');
    const r = await f.ensurePullRequest(spec);
    expect(r.action).toBe('updated');
    expect(server.items.get(number)!.labels).toEqual(['mlops', 'needs-review', 'retrain']);
    const labelCalls = server.requests.filter((q) => q.operationId === 'issues/add-labels');
    expect(labelCalls.map((q) => q.body)).toEqual([{ labels: ['mlops'] }, { labels: ['retrain'] }]);
  });

  it('opens a new pull request once the previous one was closed', async () => {
    const f = forge();
    const first = await f.ensurePullRequest(spec);
    await f.closePullRequest(first.number, 'Superseded by a newer retrain.');
    expect(server.items.get(first.number)).toMatchObject({ state: 'closed', comments: [{ body: 'Superseded by a newer retrain.' }] });
    expect(await f.findOpenPullRequest(spec.head)).toBeNull();
    const second = await f.ensurePullRequest(spec);
    expect(second.action).toBe('created');
    expect(second.number).not.toBe(first.number);
  });

  it('finds the open pull request of a branch', async () => {
    const f = forge();
    expect(await f.findOpenPullRequest(spec.head)).toBeNull();
    const { number } = await f.ensurePullRequest(spec);
    await f.ensurePullRequest({ ...spec, head: 'mlops/retrain/other-model' });
    expect(await f.findOpenPullRequest(spec.head)).toMatchObject({ number, head: spec.head, base: 'main', state: 'open', labels: ['mlops', 'retrain'] });
  });

  it('refuses a pull request whose head is its base', async () => {
    await expect(forge().ensurePullRequest({ ...spec, head: 'main' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('GitHubForge faults', () => {
  it.each([
    [401, 'FORGE_AUTH'],
    [403, 'FORGE_AUTH'],
    [404, 'FORGE_NOT_FOUND'],
    [422, 'FORGE_UNPROCESSABLE'],
  ] as const)('maps HTTP %i to %s with a hint, without retrying', async (status, code) => {
    server.fault({ operation: 'pulls/list', status, message: `GitHub says ${status}` });
    const err = await forge().ensurePullRequest(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlopsError);
    expect(err).toMatchObject({ code, data: { status, github_message: `GitHub says ${status}` } });
    expect((err as MlopsError).message).toContain(`GitHub says ${status}`);
    expect((err as MlopsError).hint).toBeTruthy();
    expect(server.count('pulls/list')).toBe(1);
  });

  it('reports GitHub\'s validation message on 422', async () => {
    server.fault({ operation: 'pulls/create', status: 422, message: 'Validation Failed' });
    await expect(forge().ensurePullRequest(spec)).rejects.toMatchObject({ code: 'FORGE_UNPROCESSABLE', message: expect.stringContaining('Validation Failed') });
    expect(server.pulls()).toHaveLength(0);
  });

  it('retries a 500 and succeeds', async () => {
    server.fault({ operation: 'pulls/list', status: 500 });
    server.fault({ operation: 'pulls/create', status: 502 });
    const r = await forge().ensurePullRequest(spec);
    expect(r.action).toBe('created');
    expect(server.count('pulls/list')).toBe(2);
    expect(server.count('pulls/create')).toBe(2);
    expect(server.pulls()).toHaveLength(1);
  });

  it('gives up with FORGE_UNAVAILABLE after the configured retries', async () => {
    server.fault({ operation: 'pulls/list', status: 503, times: 10 });
    await expect(forge({ retries: 2 }).ensurePullRequest(spec)).rejects.toMatchObject({
      code: 'FORGE_UNAVAILABLE',
      message: expect.stringContaining('after 2 retries'),
    });
    expect(server.count('pulls/list')).toBe(3);
  });

  it('times out on a hanging server, retries, then gives up with FORGE_UNAVAILABLE', async () => {
    server.fault({ operation: 'pulls/list', hang: true, times: 2 });
    const err = await forge({ timeoutMs: 100, retries: 1 }).findOpenPullRequest(spec.head).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORGE_UNAVAILABLE', message: expect.stringContaining('no answer within 100 ms') });
    expect(server.count('pulls/list')).toBe(2);
  });

  it('recovers when only the first attempt hangs', async () => {
    server.fault({ operation: 'pulls/list', hang: true });
    expect(await forge({ timeoutMs: 400, retries: 1 }).findOpenPullRequest(spec.head)).toBeNull();
    expect(server.count('pulls/list')).toBe(2);
  });

  it('waits for the primary rate limit to reset, then retries', async () => {
    server.fault({ operation: 'pulls/list', rateLimit: 'primary', resetIn: 1 });
    expect(await forge().findOpenPullRequest(spec.head)).toBeNull();
    expect(server.count('pulls/list')).toBe(2);
    expect(logs.some((l) => /rate limit .* waiting \d+s/.test(l))).toBe(true);
  });

  it('honours Retry-After on a secondary rate limit', async () => {
    server.fault({ operation: 'pulls/create', rateLimit: 'secondary', retryAfter: 7 });
    expect((await forge().ensurePullRequest(spec)).action).toBe('created');
    expect(server.count('pulls/create')).toBe(2);
    expect(logs).toContainEqual(expect.stringContaining('secondary rate limit on POST /repos/{owner}/{repo}/pulls: waiting 7s'));
  });

  it('stops with FORGE_RATE_LIMITED when the reset is further away than the longest wait', async () => {
    server.fault({ operation: 'pulls/list', rateLimit: 'primary', resetIn: 3600 });
    const err = await forge({ rateLimit: { secondMs: 1, maxWaitMs: 1000 } }).findOpenPullRequest(spec.head).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORGE_RATE_LIMITED', message: expect.stringContaining('the limit resets at') });
    expect(server.count('pulls/list')).toBe(1);
  });

  it('stops with FORGE_RATE_LIMITED once its waits are used up', async () => {
    server.fault({ operation: 'pulls/list', rateLimit: 'secondary', retryAfter: 1, times: 10 });
    await expect(forge({ rateLimit: { secondMs: 1, maxRetries: 2 } }).findOpenPullRequest(spec.head)).rejects.toMatchObject({ code: 'FORGE_RATE_LIMITED' });
    expect(server.count('pulls/list')).toBe(3);
  });

  it('fails with FORGE_TOKEN_MISSING before any request when there is no token', async () => {
    await expect(forge({ token: undefined }).ensurePullRequest(spec)).rejects.toMatchObject({ code: 'FORGE_TOKEN_MISSING', hint: expect.stringContaining('MLOPS_TOKEN') });
    expect(server.requests).toHaveLength(0);
  });

  it('maps an unreachable API to FORGE_UNAVAILABLE', async () => {
    const url = server.url;
    await server.close();
    const err = await forge({ apiUrl: url, retries: 1 }).findOpenPullRequest(spec.head).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORGE_UNAVAILABLE' });
    server = await startGitHubServer(); // for afterEach
  });

  it('never lets the token reach an error, its data, its cause or a log line', async () => {
    const token = 'sekret-value-4711-do-not-print';
    await server.close();
    server = await startGitHubServer({ token });
    const f = forge({ token, retries: 1, timeoutMs: 100 });
    // GitHub echoing a credential back is unlikely, but a proxy or an Enterprise error page may.
    server.fault({ operation: 'pulls/list', status: 401, message: `Bad credentials: ${token}` });
    server.fault({ operation: 'pulls/list', status: 500, message: `upstream failed for token ${token}`, times: 2 });
    server.fault({ operation: 'pulls/list', rateLimit: 'primary', resetIn: 3600 });
    server.fault({ operation: 'pulls/list', hang: true, times: 2 });
    const errors: unknown[] = [];
    for (let i = 0; i < 4; i++) errors.push(await f.findOpenPullRequest('x').catch((e: unknown) => e));
    expect(errors.map((e) => (e as MlopsError).code)).toEqual(['FORGE_AUTH', 'FORGE_UNAVAILABLE', 'FORGE_RATE_LIMITED', 'FORGE_UNAVAILABLE']);
    for (const e of errors) {
      const text = [inspect(e, { depth: Infinity }), JSON.stringify(e), JSON.stringify((e as MlopsError).toJSON()), (e as MlopsError).hint].join('\n');
      expect(text).not.toContain(token);
    }
    expect((errors[0] as MlopsError).message).toContain('Bad credentials: ***');
    expect(logs.join('\n')).not.toContain(token);
    // ...while it was sent where it belongs.
    expect(server.requests[0]!.headers.authorization).toBe(`token ${token}`);
  });
});

describe('GitHubForge incident issues', () => {
  const incident = { key: 'canary:backlink-success@v1.3.0', title: 'Canary v1.3.0 rolled back', body: 'Error rate 12% > 10%', labels: ['mlops-alert'] };

  it('opens one issue per incident and comments on it afterwards', async () => {
    const f = forge();
    const first = await f.ensureIssue(incident);
    expect(first.action).toBe('opened');
    const second = await f.ensureIssue({ ...incident, body: 'Still failing' });
    expect(second).toEqual({ ...first, action: 'commented' });
    const issues = server.issues();
    expect(issues).toHaveLength(1);
    expect(issues[0]!.labels).toEqual([INCIDENT_LABEL, 'mlops-alert']);
    expect(issues[0]!.body).toContain(incidentMarker(incident.key));
    expect(issues[0]!.body).toContain('Error rate 12% > 10%');
    expect(issues[0]!.comments.map((c) => c.body)).toEqual(['Still failing']);
  });

  it('keeps incidents apart and ignores pull requests and closed issues carrying a marker', async () => {
    const marker = incidentMarker(incident.key);
    server.seed({ title: 'closed', body: `old\n\n${marker}`, state: 'closed', labels: [INCIDENT_LABEL] });
    server.seed({ title: 'a PR quoting the marker', body: marker, labels: [INCIDENT_LABEL], pull: { head: 'x', base: 'main', draft: false } });
    const f = forge();
    await f.ensureIssue({ ...incident, key: 'canary:backlink-success@v1.4.0' });
    const r = await f.ensureIssue(incident);
    expect(r.action).toBe('opened');
    expect(server.issues().filter((i) => i.state === 'open')).toHaveLength(2);
  });

  it('finds the incident issue beyond the first page of open issues', async () => {
    const f = forge();
    const { number } = await f.ensureIssue(incident);
    for (let i = 0; i < 150; i++) server.seed({ title: `other ${i}`, body: incidentMarker(`other-${i}`), labels: [INCIDENT_LABEL] });
    const r = await f.ensureIssue(incident);
    expect(r).toMatchObject({ number, action: 'commented' });
    const lists = server.requests.filter((q) => q.operationId === 'issues/list-for-repo');
    expect(lists.at(-1)!.query.page).toBe('2');
  });

  it('rewrites the body keeping the marker, and closes the issue with a comment', async () => {
    const f = forge();
    const { number } = await f.ensureIssue(incident);
    await f.updateIssueBody(number, incident.key, 'new body');
    expect(await f.findIssue(incident.key)).toMatchObject({ number, body: `new body\n\n${incidentMarker(incident.key)}` });
    expect(await f.closeIssue({ key: incident.key, comment: 'Recovered.' })).toMatchObject({ number });
    expect(server.items.get(number)).toMatchObject({ state: 'closed', state_reason: 'completed', comments: [{ body: 'Recovered.' }] });
    expect(await f.findIssue(incident.key)).toBeNull();
    expect(await f.closeIssue({ key: incident.key })).toBeNull();
  });
});
