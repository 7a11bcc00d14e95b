// Use case: `mlops data collect --from URL...`. Pulls the outcome stores of a fleet of `mlops
// serve` replicas (GET /v1/outcomes?after=<cursor>&limit=N) into the local store, then runs the
// ordinary collect, so remote outcomes are sealed by exactly the code and rules local ones are.
//
// Exactly once: each page is appended to the local store (durably) before that source's cursor
// moves past it in `.mlops/remote-cursors.json`. A crash between the two re-pulls one page, and
// the re-pulled copies are exact duplicates that collect drops; records already sealed into a
// shard are recognised by their row and skipped. So even a lost cursor file (a fresh CI
// checkout) costs only a longer download, never a record sealed twice.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MlopsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { getFeedbackCollector } from '../data/collector.js';
import { collectOutcomes, type CollectOptions, type CollectResult } from './data-collect.js';

export const REMOTE_CURSORS_FILE = '.mlops/remote-cursors.json';

export interface PullOptions {
  /** Registry directory whose local store receives the records (default: current directory). */
  dir?: string;
  /** Base URLs of the replicas (http://host:port[/prefix]); `/v1/outcomes` is added. */
  sources: string[];
  /** Bearer token sent to every source (default: MLOPS_TOKEN of env). */
  token?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Records per page (1-10000, default 1000). */
  pageSize?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Most pages per source in one run (default unlimited): a bound for scheduled jobs. */
  maxPages?: number;
  fetch?: typeof fetch;
  /** Store durability for the pulled records (default fsync). */
  durability?: 'fsync' | 'none';
  /** One line per page pulled (for progress output). */
  onProgress?: (line: string) => void;
}

export interface SourcePull {
  url: string;
  /** Records received and appended to the local store. */
  records: number;
  /** Received records the local store refused (invalid): counted, not written. */
  invalid: number;
  pages: number;
  /** The source said it has nothing more right now. */
  done: boolean;
  cursor: string | null;
}

interface CursorFile {
  apiVersion: 'mlops/v1';
  kind: 'RemoteCursors';
  sources: Record<string, { cursor: string; records: number; updated_at: string }>;
}

/** `http://h:1/x/` and `http://h:1/x/v1/outcomes` are one source: `http://h:1/x`. */
export function normalizeSource(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MlopsError('INVALID_ARGUMENT', `--from ${url} is not a URL`, { hint: 'Pass the base URL of an `mlops serve` replica, e.g. http://10.0.0.5:8080' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new MlopsError('INVALID_ARGUMENT', `--from ${url}: only http and https sources are supported`);
  }
  if (u.username || u.password) {
    throw new MlopsError('INVALID_ARGUMENT', `--from ${u.host}: credentials do not belong in the URL`, { hint: 'Set MLOPS_TOKEN; it is sent as a bearer token.' });
  }
  let path = u.pathname.replace(/\/+$/, '');
  if (path.endsWith('/v1/outcomes')) path = path.slice(0, -'/v1/outcomes'.length);
  return `${u.protocol}//${u.host}${path}`;
}

async function readCursors(dir: string): Promise<CursorFile> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, REMOTE_CURSORS_FILE), 'utf8')) as CursorFile;
    if (parsed?.kind === 'RemoteCursors' && parsed.sources && typeof parsed.sources === 'object') return parsed;
  } catch {
    // Missing or unreadable: start from the beginning (safe, see the header comment).
  }
  return { apiVersion: 'mlops/v1', kind: 'RemoteCursors', sources: {} };
}

/**
 * Pulls every source's new records into the local store; cursors advance page by page. Run the
 * ordinary collect afterwards (collectFromRemotes does both).
 */
export async function collectRemote(opts: PullOptions): Promise<SourcePull[]> {
  const dir = resolve(opts.dir ?? process.cwd());
  if (!opts.sources.length) throw new MlopsError('USAGE', 'no source: pass at least one --from URL');
  const sources = [...new Set(opts.sources.map(normalizeSource))];
  const pageSize = opts.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) throw new MlopsError('INVALID_ARGUMENT', `page size must be 1-10000, got ${pageSize}`);
  const token = opts.token !== undefined ? opts.token : (opts.env ?? process.env).MLOPS_TOKEN || null;
  const doFetch = opts.fetch ?? fetch;
  const collector = getFeedbackCollector({ dir, durability: opts.durability ?? 'fsync' });
  const cursors = await readCursors(dir);
  const results: SourcePull[] = [];

  for (const source of sources) {
    const r: SourcePull = { url: source, records: 0, invalid: 0, pages: 0, done: false, cursor: cursors.sources[source]?.cursor ?? null };
    while (!r.done && (opts.maxPages === undefined || r.pages < opts.maxPages)) {
      const url = `${source}/v1/outcomes?limit=${pageSize}${r.cursor ? `&after=${encodeURIComponent(r.cursor)}` : ''}`;
      const page = await fetchPage(doFetch, url, source, token, opts.timeoutMs ?? 30_000);
      if (page.records.length) {
        // Durable locally before the cursor moves: the exactly-once step.
        const appended = await collector.appendOutcomes(page.records as never[], { onInvalid: 'skip' });
        r.records += appended.accepted;
        r.invalid += appended.rejected.length;
      }
      r.pages++;
      r.done = page.done || page.records.length === 0;
      opts.onProgress?.(`${source}: page ${r.pages}, ${page.records.length} records${r.done ? ' (up to date)' : ''}`);
      if (page.next !== r.cursor) {
        r.cursor = page.next;
        const prev = cursors.sources[source];
        cursors.sources[source] = { cursor: page.next, records: (prev?.records ?? 0) + page.records.length, updated_at: new Date().toISOString() };
        await writeFileAtomic(join(dir, REMOTE_CURSORS_FILE), JSON.stringify(cursors, null, 2) + '\n');
      } else if (!page.done && page.records.length === 0) {
        r.done = true; // a source that neither advances nor ends would loop forever
      }
    }
    results.push(r);
  }
  return results;
}

async function fetchPage(
  doFetch: typeof fetch,
  url: string,
  source: string,
  token: string | null,
  timeoutMs: number,
): Promise<{ records: unknown[]; next: string; done: boolean }> {
  let res: Response;
  let text: string;
  try {
    res = await doFetch(url, {
      headers: { accept: 'application/x-ndjson', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (cause) {
    throw new MlopsError('SOURCE_UNREACHABLE', `outcome source ${source} did not answer: ${(cause as Error).message}`, {
      cause,
      hint: 'Check the URL and that `mlops serve` runs there; cursors of the sources pulled so far are saved.',
    });
  }
  if (res.status !== 200) {
    let detail = '';
    try {
      const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (e) detail = `: ${e.code ?? ''} ${e.message ?? ''}`.trimEnd();
    } catch {
      detail = '';
    }
    throw new MlopsError(res.status === 401 ? 'UNAUTHORIZED' : 'SOURCE_UNREACHABLE', `outcome source ${source} answered HTTP ${res.status}${detail}`, {
      hint: res.status === 401 ? 'Set MLOPS_TOKEN to the token the replicas were started with.' : undefined,
    });
  }
  const next = res.headers.get('x-mlops-next-cursor');
  if (!next) {
    throw new MlopsError('SOURCE_RESPONSE_INVALID', `outcome source ${source} sent no x-mlops-next-cursor header`, { hint: 'Is it an `mlops serve` replica (GET /v1/outcomes)?' });
  }
  const records: unknown[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      throw new MlopsError('SOURCE_RESPONSE_INVALID', `outcome source ${source}: line ${lineNo} of the page is not JSON`, { hint: 'The cursor was not advanced; run the collect again.' });
    }
  }
  return { records, next, done: res.headers.get('x-mlops-done') === 'true' };
}

export interface CollectRemoteOptions extends CollectOptions, Omit<PullOptions, 'dir' | 'durability'> {}

export interface CollectRemoteResult extends CollectResult {
  sources: SourcePull[];
}

/**
 * Pull from every source, then seal what is new in the local store (remote and local alike).
 * A dry run still pulls (the local store is a cache of the fleet's records, not registry
 * state), so that it can show what the real run would seal.
 */
export async function collectFromRemotes(opts: CollectRemoteOptions): Promise<CollectRemoteResult> {
  const sources = await collectRemote(opts);
  const result = await collectOutcomes(opts);
  return { ...result, sources };
}
