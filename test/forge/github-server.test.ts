// The contract server itself: it must catch requests that break GitHub's description, or the
// forge tests that lean on it prove nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPENAPI_EXTRACT, startGitHubServer, toJsonSchema, type GitHubServer } from '../helpers/github-server.js';

let server: GitHubServer;
beforeEach(async () => {
  server = await startGitHubServer();
});
afterEach(async () => {
  await server.close();
});

function call(method: string, path: string, body?: unknown, token = server.token) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const repo = () => `/repos/${server.owner}/${server.repo}`;

describe('GitHub contract server', () => {
  it('is built from GitHub\'s description, with its source recorded', () => {
    expect(OPENAPI_EXTRACT.source).toMatchObject({ package: '@octokit/openapi', version: '23.0.2', file: 'generated/api.github.com.json' });
    expect(OPENAPI_EXTRACT.operations.map((o) => `${o.method} ${o.path}`)).toContain('POST /repos/{owner}/{repo}/pulls');
    expect(JSON.stringify(OPENAPI_EXTRACT)).not.toContain('$ref');
  });

  it('answers 404 to an operation outside the description and records it', async () => {
    const r = await call('DELETE', `${repo()}/pulls/1`);
    expect(r.status).toBe(404);
    expect(server.violations).toEqual([expect.stringContaining('DELETE /repos/octo-org/registry/pulls/1: not an operation')]);
  });

  it('answers 422 to a body that breaks the schema and records it', async () => {
    const r = await call('POST', `${repo()}/pulls`, { title: 'x', head: 'a' });
    expect(r.status).toBe(422);
    expect(server.violations).toEqual([expect.stringContaining("must have required property 'base'")]);
    expect(server.pulls()).toHaveLength(0);
  });

  it.each([
    ['PATCH', '/issues/1', { state: 'resolved' }, 'must be equal to one of the allowed values'],
    ['POST', '/issues/1/labels', { labels: [] }, 'must NOT have fewer than 1 items'],
    ['POST', '/issues/1/comments', {}, "must have required property 'body'"],
    ['GET', '/pulls/abc', undefined, 'path parameter pull_number=abc'],
    ['GET', '/pulls?state=merged', undefined, 'query parameter state=merged'],
  ])('rejects %s %s %j', async (method, path, body, text) => {
    server.seed({ title: 'existing' });
    const r = await call(method, `${repo()}${path}`, body);
    expect(r.status).toBe(422);
    expect(server.violations.join('\n')).toContain(text);
  });

  it('records keys GitHub would silently ignore', async () => {
    const r = await call('POST', `${repo()}/issues`, { title: 't', lables: ['typo'] });
    expect(r.status).toBe(201);
    expect(server.violations).toEqual([expect.stringContaining('body key "lables" is not in GitHub\'s description')]);
    await call('GET', `${repo()}/issues?per_page=10&labelz=x`);
    expect(server.violations[1]).toContain('unknown query parameter labelz');
  });

  it('checks the token and rejects with 401 like GitHub', async () => {
    const r = await call('GET', `${repo()}/pulls`, undefined, 'nope');
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ message: 'Bad credentials' });
    expect(server.violations).toEqual([]);
  });

  it('turns OpenAPI nullable into JSON Schema', () => {
    expect(toJsonSchema({ type: 'string', nullable: true })).toEqual({ type: ['string', 'null'] });
    expect(toJsonSchema({ oneOf: [{ type: 'string' }, { type: 'integer' }], nullable: true })).toEqual({
      anyOf: [{ oneOf: [{ type: 'string' }, { type: 'integer' }] }, { type: 'null' }],
    });
    expect(toJsonSchema({ type: 'object', properties: { nullable: { type: 'boolean' } } })).toEqual({ type: 'object', properties: { nullable: { type: 'boolean' } } });
  });
});
