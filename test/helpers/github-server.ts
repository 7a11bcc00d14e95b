// A stand-in for the GitHub REST API on 127.0.0.1: in-memory pulls, issues, comments and labels,
// every request checked against GitHub's own OpenAPI description (the extract written by
// scripts/extract-github-openapi.mjs), and faults injected on demand. A request outside the
// contract is answered the way GitHub would (404 unknown route, 422 invalid body) AND recorded
// in `violations`, which tests assert is empty: a bug in our requests fails loudly even when
// the code under test swallows the error.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Record<string, unknown>;
}

interface Operation {
  operationId: string;
  method: string;
  path: string;
  parameters: Parameter[];
  requestBody: { required: boolean; schema: Record<string, unknown> } | null;
  successStatus: number;
}

interface Extract {
  source: { package: string; version: string; file: string };
  operations: Operation[];
}

export const OPENAPI_EXTRACT: Extract = JSON.parse(
  readFileSync(new URL('../fixtures/github/openapi-extract.json', import.meta.url), 'utf8'),
);

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string | null;
  query: Record<string, string>;
  body: unknown;
  /** Status the server answered (0 when it hung). */
  status: number;
  /** Request headers, authorization included: tests check what was sent, never print it. */
  headers: Record<string, string>;
}

export type Fault = { operation?: string; times?: number } & (
  | { status: number; message?: string; headers?: Record<string, string> }
  | { hang: true }
  /** Primary limit: 403 with x-ratelimit-remaining: 0 and a reset `resetIn` seconds ahead. */
  | { rateLimit: 'primary'; resetIn?: number }
  /** Secondary limit: 403 "You have exceeded a secondary rate limit" with retry-after. */
  | { rateLimit: 'secondary'; retryAfter?: number }
);

export interface FakeComment {
  id: number;
  body: string;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: string[];
  comments: FakeComment[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  /** Set for pull requests: GitHub numbers PRs and issues in one sequence. */
  pull?: { head: string; base: string; draft: boolean };
}

export interface GitHubServer {
  url: string;
  owner: string;
  repo: string;
  token: string;
  requests: RecordedRequest[];
  /** Requests that broke GitHub's contract; a passing test leaves this empty. */
  violations: string[];
  /** Issues and pull requests by number. */
  items: Map<number, FakeIssue>;
  fault(f: Fault): void;
  /** How many requests reached an operation (faulted ones included). */
  count(operationId: string): number;
  pulls(): FakeIssue[];
  issues(): FakeIssue[];
  /** Creates an issue (or a PR with `pull`) directly in the state, as if made on github.com. */
  seed(item: Partial<FakeIssue> & { title: string }): FakeIssue;
  close(): Promise<void>;
}

interface CompiledOperation extends Operation {
  regex: RegExp;
  pathNames: string[];
  validateBody?: ValidateFunction;
  validateParam: Map<string, ValidateFunction>;
}

let compiledOps: CompiledOperation[] | undefined;

function compileOperations(): CompiledOperation[] {
  if (compiledOps) return compiledOps;
  // strict off: the description carries OpenAPI-only keywords (readOnly, deprecated...) that are notes.
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  addFormats.default(ajv);
  // GitHub's own formats (repo.nwo, int64) are documentation, not checks GitHub enforces.
  const known = new Set(Object.keys(ajv.formats));
  for (const f of JSON.stringify(OPENAPI_EXTRACT).matchAll(/"format":"([^"]+)"/g)) {
    if (!known.has(f[1]!)) {
      ajv.addFormat(f[1]!, true);
      known.add(f[1]!);
    }
  }
  compiledOps = OPENAPI_EXTRACT.operations.map((op) => {
    const pathNames: string[] = [];
    const pattern = op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
      pathNames.push(name);
      return '([^/]+)';
    });
    const validateParam = new Map<string, ValidateFunction>();
    for (const p of op.parameters) validateParam.set(`${p.in}:${p.name}`, ajv.compile(toJsonSchema(p.schema) as object));
    return {
      ...op,
      regex: new RegExp(`^${pattern}$`),
      pathNames,
      validateParam,
      validateBody: op.requestBody ? ajv.compile(toJsonSchema(op.requestBody.schema) as object) : undefined,
    };
  });
  return compiledOps;
}

/** Query and path values arrive as strings; the description types some as integers or booleans. */
function coerce(value: string, schema: Record<string, unknown>): unknown {
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (schema.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/**
 * OpenAPI 3.0 schema -> JSON Schema: `nullable: true` becomes a null alternative (ajv only
 * accepts `nullable` beside `type`, and GitHub puts it beside `oneOf` too).
 */
export function toJsonSchema(schema: unknown, isPropertyMap = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toJsonSchema(s));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (!isPropertyMap && k === 'nullable') continue;
    out[k] = toJsonSchema(v, !isPropertyMap && k === 'properties');
  }
  if (isPropertyMap || (schema as { nullable?: unknown }).nullable !== true) return out;
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
  return { anyOf: [out, { type: 'null' }] };
}

function ajvText(fn: ValidateFunction): string {
  return (fn.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`).join('; ');
}

export async function startGitHubServer(opts: { owner?: string; repo?: string; token?: string } = {}): Promise<GitHubServer> {
  const owner = opts.owner ?? 'octo-org';
  const repo = opts.repo ?? 'registry';
  const token = opts.token ?? 'ghp_test0000000000000000000000000000000000';
  const ops = compileOperations();
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const items = new Map<number, FakeIssue>();
  const faults: Array<Fault & { left: number }> = [];
  let nextNumber = 1;
  let nextComment = 1000;
  let remaining = 5000;
  const clock = () => new Date().toISOString();
  let base = '';

  const webUrl = (n: number, pull: boolean) => `https://github.test/${owner}/${repo}/${pull ? 'pull' : 'issues'}/${n}`;
  const labelJson = (name: string) => ({ id: hashId(name), node_id: `LA_${name}`, url: `${base}/repos/${owner}/${repo}/labels/${encodeURIComponent(name)}`, name, color: 'ededed', default: false, description: null });
  const user = { login: 'mlops-bot', id: 1, type: 'Bot' };
  const issueJson = (i: FakeIssue) => ({
    id: 100000 + i.number,
    node_id: `I_${i.number}`,
    url: `${base}/repos/${owner}/${repo}/issues/${i.number}`,
    html_url: webUrl(i.number, !!i.pull),
    number: i.number,
    state: i.state,
    state_reason: i.state_reason,
    title: i.title,
    body: i.body,
    user,
    labels: i.labels.map(labelJson),
    comments: i.comments.length,
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_at: i.closed_at,
    ...(i.pull ? { pull_request: { url: `${base}/repos/${owner}/${repo}/pulls/${i.number}`, html_url: webUrl(i.number, true) } } : {}),
  });
  const pullJson = (i: FakeIssue) => ({
    id: 200000 + i.number,
    node_id: `PR_${i.number}`,
    url: `${base}/repos/${owner}/${repo}/pulls/${i.number}`,
    html_url: webUrl(i.number, true),
    number: i.number,
    state: i.state,
    title: i.title,
    body: i.body,
    user,
    labels: i.labels.map(labelJson),
    draft: i.pull!.draft,
    head: { label: `${owner}:${i.pull!.head}`, ref: i.pull!.head, sha: 'a'.repeat(40), repo: { full_name: `${owner}/${repo}` } },
    base: { label: `${owner}:${i.pull!.base}`, ref: i.pull!.base, sha: 'b'.repeat(40), repo: { full_name: `${owner}/${repo}` } },
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_at: i.closed_at,
    merged_at: null,
  });

  const seed = (item: Partial<FakeIssue> & { title: string }): FakeIssue => {
    const now = clock();
    const issue: FakeIssue = {
      number: nextNumber++,
      body: null,
      state: 'open',
      state_reason: null,
      labels: [],
      comments: [],
      created_at: now,
      updated_at: now,
      closed_at: null,
      ...item,
    };
    items.set(issue.number, issue);
    return issue;
  };

  function send(res: ServerResponse, rec: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
    rec.status = status;
    remaining = Math.max(0, remaining - 1);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-used': String(5000 - remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      ...headers,
    });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }
  const error = (res: ServerResponse, rec: RecordedRequest, status: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    send(res, rec, status, { message, documentation_url: 'https://docs.github.com/rest', status: String(status), ...extra }, headers);

  function paginate(res: ServerResponse, rec: RecordedRequest, url: URL, all: unknown[]): void {
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
    const page = Number(url.searchParams.get('page') ?? 1);
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number) => {
      const u = new URL(url.href);
      u.searchParams.set('page', String(p));
      return u.href;
    };
    const links: string[] = [];
    if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) links.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
    send(res, rec, 200, slice, links.length ? { link: links.join(', ') } : {});
  }

  function takeFault(operationId: string): Fault | undefined {
    const f = faults.find((x) => x.left > 0 && (!x.operation || x.operation === operationId));
    if (f) f.left--;
    return f;
  }

  /** Applies a valid request to the in-memory state. */
  function handle(op: CompiledOperation, params: Record<string, string>, url: URL, body: Record<string, unknown>, res: ServerResponse, rec: RecordedRequest): void {
    const now = clock();
    const num = Number(params.pull_number ?? params.issue_number);
    const q = url.searchParams;
    switch (op.operationId) {
      case 'pulls/list': {
        const state = q.get('state') ?? 'open';
        const head = q.get('head');
        const baseRef = q.get('base');
        const list = [...items.values()]
          .filter((i) => i.pull && (state === 'all' || i.state === state))
          .filter((i) => !head || head === `${owner}:${i.pull!.head}`)
          .filter((i) => !baseRef || baseRef === i.pull!.base)
          .sort((a, b) => (q.get('direction') === 'asc' ? a.number - b.number : b.number - a.number));
        return paginate(res, rec, url, list.map(pullJson));
      }
      case 'pulls/get': {
        const i = items.get(num);
        if (!i?.pull) return error(res, rec, 404, 'Not Found');
        return send(res, rec, 200, pullJson(i));
      }
      case 'pulls/create': {
        const head = String(body.head).replace(new RegExp(`^${owner}:`), '');
        const baseRef = String(body.base);
        if (head === baseRef) {
          return error(res, rec, 422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${baseRef} and ${head}` }] });
        }
        const dup = [...items.values()].find((i) => i.pull && i.state === 'open' && i.pull.head === head && i.pull.base === baseRef);
        if (dup) {
          return error(res, rec, 422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }] });
        }
        const i = seed({ title: String(body.title ?? ''), body: (body.body as string | undefined) ?? null, pull: { head, base: baseRef, draft: body.draft === true } });
        return send(res, rec, 201, pullJson(i));
      }
      case 'pulls/update': {
        const i = items.get(num);
        if (!i?.pull) return error(res, rec, 404, 'Not Found');
        if (typeof body.title === 'string') i.title = body.title;
        if (typeof body.body === 'string') i.body = body.body;
        if (typeof body.base === 'string') i.pull.base = body.base;
        if (body.state === 'closed' && i.state === 'open') Object.assign(i, { state: 'closed', closed_at: now });
        if (body.state === 'open' && i.state === 'closed') Object.assign(i, { state: 'open', closed_at: null });
        i.updated_at = now;
        return send(res, rec, 200, pullJson(i));
      }
      case 'issues/list-for-repo': {
        const state = q.get('state') ?? 'open';
        const labels = (q.get('labels') ?? '').split(',').map((l) => l.trim()).filter(Boolean);
        const list = [...items.values()]
          .filter((i) => state === 'all' || i.state === state)
          .filter((i) => labels.every((l) => i.labels.includes(l)))
          .sort((a, b) => ((q.get('direction') ?? 'desc') === 'asc' ? a.number - b.number : b.number - a.number));
        return paginate(res, rec, url, list.map(issueJson));
      }
      case 'issues/get': {
        const i = items.get(num);
        if (!i) return error(res, rec, 404, 'Not Found');
        return send(res, rec, 200, issueJson(i));
      }
      case 'issues/create': {
        const labels = ((body.labels as unknown[] | undefined) ?? []).map((l) => (typeof l === 'string' ? l : String((l as { name: string }).name)));
        const i = seed({ title: String(body.title), body: (body.body as string | undefined) ?? null, labels: [...new Set(labels)] });
        return send(res, rec, 201, issueJson(i));
      }
      case 'issues/update': {
        const i = items.get(num);
        if (!i) return error(res, rec, 404, 'Not Found');
        if (typeof body.title === 'string') i.title = body.title;
        if (typeof body.body === 'string') i.body = body.body;
        if (Array.isArray(body.labels)) i.labels = body.labels.map((l) => (typeof l === 'string' ? l : String((l as { name: string }).name)));
        if (body.state === 'closed' && i.state === 'open') Object.assign(i, { state: 'closed', closed_at: now, state_reason: (body.state_reason as string | undefined) ?? 'completed' });
        if (body.state === 'open' && i.state === 'closed') Object.assign(i, { state: 'open', closed_at: null, state_reason: 'reopened' });
        i.updated_at = now;
        return send(res, rec, 200, issueJson(i));
      }
      case 'issues/create-comment': {
        const i = items.get(num);
        if (!i) return error(res, rec, 404, 'Not Found');
        const c = { id: nextComment++, body: String(body.body) };
        i.comments.push(c);
        i.updated_at = now;
        return send(res, rec, 201, { id: c.id, node_id: `IC_${c.id}`, body: c.body, html_url: `${webUrl(i.number, !!i.pull)}#issuecomment-${c.id}`, user, created_at: now, updated_at: now });
      }
      case 'issues/add-labels': {
        const i = items.get(num);
        if (!i) return error(res, rec, 404, 'Not Found');
        for (const l of (body.labels as unknown[]) ?? []) {
          const name = typeof l === 'string' ? l : String((l as { name: string }).name);
          if (!i.labels.includes(name)) i.labels.push(name);
        }
        return send(res, rec, 200, i.labels.map(labelJson));
      }
      default:
        return error(res, rec, 404, 'Not Found');
    }
  }

  function respondFault(f: Fault, res: ServerResponse, rec: RecordedRequest): boolean {
    if ('hang' in f) {
      rec.status = 0;
      return true; // never answered: the client's timeout must fire
    }
    if ('rateLimit' in f && f.rateLimit === 'primary') {
      const reset = Math.floor(Date.now() / 1000) + (f.resetIn ?? 1);
      error(res, rec, 403, `API rate limit exceeded for installation ID 1.`, {}, {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(reset),
      });
      return true;
    }
    if ('rateLimit' in f) {
      error(res, rec, 403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', {}, {
        'retry-after': String(f.retryAfter ?? 1),
      });
      return true;
    }
    error(res, rec, f.status, f.message ?? defaultMessage(f.status), {}, f.headers);
    return true;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const method = (req.method ?? 'GET').toUpperCase();
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const raw = Buffer.concat(chunks).toString('utf8');
      const rec: RecordedRequest = { method, path: url.pathname, operationId: null, query: Object.fromEntries(url.searchParams), body: undefined, status: 0, headers };
      requests.push(rec);

      // 1. The route must be an operation of the description.
      let op: CompiledOperation | undefined;
      let m: RegExpExecArray | null = null;
      for (const candidate of ops) {
        if (candidate.method !== method) continue;
        m = candidate.regex.exec(url.pathname);
        if (m) {
          op = candidate;
          break;
        }
      }
      if (!op || !m) {
        violations.push(`${method} ${url.pathname}: not an operation this server knows from GitHub's description`);
        return error(res, rec, 404, 'Not Found');
      }
      rec.operationId = op.operationId;
      const where = `${method} ${url.pathname} (${op.operationId})`;

      // 2. Parameters: path and query values against their schemas; unknown query keys are ignored
      //    by GitHub, which hides typos, so they count as violations here.
      const params: Record<string, string> = {};
      op.pathNames.forEach((n, i) => (params[n] = decodeURIComponent(m![i + 1]!)));
      const problems: string[] = [];
      for (const p of op.parameters) {
        const value = p.in === 'path' ? params[p.name] : p.in === 'query' ? url.searchParams.get(p.name) : null;
        if (p.in !== 'path' && p.in !== 'query') continue;
        if (value === null || value === undefined) {
          if (p.required) problems.push(`missing required ${p.in} parameter ${p.name}`);
          continue;
        }
        const fn = op.validateParam.get(`${p.in}:${p.name}`)!;
        if (!fn(coerce(value, p.schema))) problems.push(`${p.in} parameter ${p.name}=${value}: ${ajvText(fn)}`);
      }
      const knownQuery = new Set(op.parameters.filter((p) => p.in === 'query').map((p) => p.name));
      for (const key of url.searchParams.keys()) {
        if (!knownQuery.has(key)) violations.push(`${where}: unknown query parameter ${key}`);
      }

      // 3. The JSON body against the request body schema.
      let body: Record<string, unknown> = {};
      if (raw.length > 0) {
        if (!/^application\/json\b/.test(headers['content-type'] ?? '')) violations.push(`${where}: body sent as ${headers['content-type'] ?? 'no content type'}, not JSON`);
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
          rec.body = body;
        } catch {
          violations.push(`${where}: body is not JSON`);
          return error(res, rec, 400, 'Problems parsing JSON');
        }
        if (!op.requestBody) {
          violations.push(`${where}: a body was sent to an operation that takes none`);
        } else {
          if (!op.validateBody!(body)) problems.push(`body: ${ajvText(op.validateBody!)}`);
          const props = (op.requestBody.schema as { properties?: Record<string, unknown> }).properties;
          if (props && body && typeof body === 'object' && !Array.isArray(body)) {
            for (const k of Object.keys(body)) if (!(k in props)) violations.push(`${where}: body key "${k}" is not in GitHub's description (GitHub ignores it)`);
          }
        }
      } else if (op.requestBody?.required) {
        problems.push('missing required request body');
      }
      if (problems.length) {
        violations.push(`${where}: ${problems.join('; ')}`);
        return error(res, rec, 422, 'Invalid request.', { errors: problems });
      }

      // 4. Authentication, then injected faults, then the state.
      const auth = headers.authorization ?? '';
      if (auth !== `token ${token}` && auth !== `Bearer ${token}`) {
        return error(res, rec, 401, 'Bad credentials');
      }
      const fault = takeFault(op.operationId);
      if (fault && respondFault(fault, res, rec)) return;
      handle(op, params, url, body, res, rec);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    owner,
    repo,
    token,
    requests,
    violations,
    items,
    fault(f) {
      faults.push({ ...f, left: f.times ?? 1 });
    },
    count: (operationId) => requests.filter((r) => r.operationId === operationId).length,
    pulls: () => [...items.values()].filter((i) => i.pull),
    issues: () => [...items.values()].filter((i) => !i.pull),
    seed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function defaultMessage(status: number): string {
  switch (status) {
    case 401: return 'Bad credentials';
    case 403: return 'Resource not accessible by integration';
    case 404: return 'Not Found';
    case 422: return 'Validation Failed';
    case 500: return 'Internal Server Error';
    case 502: return 'Server Error';
    case 503: return 'Service Unavailable';
    default: return `HTTP ${status}`;
  }
}

function hashId(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}
