// `mlops data collect --from URL...`: outcomes of several real replicas (servers on loopback)
// sealed exactly once, across runs, a lost cursor file and an interrupted pull.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { collectFromRemotes, collectRemote, normalizeSource, REMOTE_CURSORS_FILE } from '../../src/app/collect-remote.js';
import { readLock } from '../../src/data/read-lock.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { tempDir } from '../helpers/gitdir.js';
import { outcome, postJson } from './helpers.js';

const running: RunningServer[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.close();
});

/** A replica: a server over a registry folder with no model, holding its own outcome store. */
async function replica(token?: string): Promise<RunningServer> {
  const dir = tempDir('mlops-replica-');
  mkdirSync(join(dir, 'registry'));
  const s = await startServer({ dir, token, watch: false, pollIntervalMs: 0, durability: 'none' });
  running.push(s);
  return s;
}

async function report(s: RunningServer, ids: number[], token?: string): Promise<void> {
  for (const i of ids) {
    const r = await postJson(`${s.url}/v1/outcomes`, outcome(i, { timestamp: `2026-11-2${i % 9}T10:00:00Z` }), token ? { authorization: `Bearer ${token}` } : {});
    expect(r.status).toBe(200);
  }
}

const day = (d: number) => new Date(Date.UTC(2026, 11, d, 2));

describe('collect from remote replicas', () => {
  it('seals every outcome of every replica exactly once: across runs, after new records, and with the cursor file lost', async () => {
    const a = await replica();
    const b = await replica();
    await report(a, [0, 1, 2, 3]);
    await report(b, [4, 5, 6, 2]); // task 2 reached both replicas (a worker retry)
    const dir = tempDir('mlops-collector-');

    const first = await collectFromRemotes({ dir, sources: [a.url, `${b.url}/`], now: day(1), token: null });
    expect(first.sources.map((s) => [s.records, s.done])).toEqual([[4, true], [4, true]]);
    expect(first.newRows).toBe(7);
    expect(first.dropped.duplicate).toBe(1);
    const cursors = JSON.parse(readFileSync(join(dir, REMOTE_CURSORS_FILE), 'utf8'));
    expect(Object.keys(cursors.sources).sort()).toEqual([a.url, b.url].sort());

    const second = await collectFromRemotes({ dir, sources: [a.url, b.url], now: day(2), token: null });
    expect(second.sources.map((s) => s.records)).toEqual([0, 0]);
    expect(second.changed).toBe(false);

    await report(a, [7]);
    const third = await collectFromRemotes({ dir, sources: [a.url, b.url], now: day(3), token: null });
    expect(third.sources.map((s) => s.records)).toEqual([1, 0]);
    expect(third.newRows).toBe(1);

    // A fresh checkout (CI) has no cursor file: everything is pulled again and nothing sealed twice.
    rmSync(join(dir, REMOTE_CURSORS_FILE));
    const fourth = await collectFromRemotes({ dir, sources: [a.url, b.url], now: day(4), token: null });
    expect(fourth.sources.map((s) => s.records)).toEqual([5, 4]);
    expect(fourth.changed).toBe(false);
    const { lock } = await readLock(dir);
    const ds = lock.datasets['backlink-outcomes']!;
    expect(ds.shards).toHaveLength(2);
    expect(ds.merged.rows).toBe(8);
  });

  it('resumes an interrupted pull from the last page made durable', async () => {
    const a = await replica();
    await report(a, [0, 1, 2, 3, 4]);
    const dir = tempDir('mlops-collector-');
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      if (++calls === 2) throw new Error('connection reset');
      return fetch(input, init);
    };
    await expect(collectRemote({ dir, sources: [a.url], pageSize: 2, fetch: flaky, token: null })).rejects.toMatchObject({ code: 'SOURCE_UNREACHABLE' });
    expect(JSON.parse(readFileSync(join(dir, REMOTE_CURSORS_FILE), 'utf8')).sources[a.url].records).toBe(2);
    const resumed = await collectRemote({ dir, sources: [a.url], pageSize: 2, token: null });
    expect(resumed[0]).toMatchObject({ records: 3, done: true });
    const r = await collectFromRemotes({ dir, sources: [a.url], now: day(5), token: null });
    expect(r.newRows).toBe(5);
    expect(r.dropped.duplicate).toBe(0);
  });

  it('sends the bearer token (MLOPS_TOKEN) and names a refusing or unreachable source', async () => {
    const a = await replica('tok');
    await report(a, [1, 2], 'tok');
    const dir = tempDir('mlops-collector-');
    await expect(collectRemote({ dir, sources: [a.url], env: {} })).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining(a.url) });
    expect(existsSync(join(dir, REMOTE_CURSORS_FILE))).toBe(false);
    const ok = await collectRemote({ dir, sources: [a.url], env: { MLOPS_TOKEN: 'tok' } });
    expect(ok[0]!.records).toBe(2);

    const gone = await replica();
    const url = gone.url;
    await running.pop()!.close();
    await expect(collectRemote({ dir, sources: [url], token: null })).rejects.toMatchObject({ code: 'SOURCE_UNREACHABLE', message: expect.stringContaining(url) });
  });

  it('refuses something that is not an outcome source', async () => {
    const dir = tempDir('mlops-collector-');
    const notMlops: typeof fetch = async () => new Response('{"hello":1}\n', { status: 200 });
    await expect(collectRemote({ dir, sources: ['http://127.0.0.1:9'], fetch: notMlops, token: null })).rejects.toMatchObject({ code: 'SOURCE_RESPONSE_INVALID' });
    const garbage: typeof fetch = async () => new Response('not json\n', { status: 200, headers: { 'x-mlops-next-cursor': 'o1.W10' } });
    await expect(collectRemote({ dir, sources: ['http://127.0.0.1:9'], fetch: garbage, token: null })).rejects.toMatchObject({ code: 'SOURCE_RESPONSE_INVALID' });
  });

  it.each([
    ['http://h:1/', 'http://h:1'],
    ['http://h:1/prefix/', 'http://h:1/prefix'],
    ['https://h/prefix/v1/outcomes', 'https://h/prefix'],
  ])('normalizes %s to %s', (given, want) => {
    expect(normalizeSource(given)).toBe(want);
  });

  it.each(['ftp://h/', 'not a url', 'http://user:pw@h:1/'])('refuses the source %s', (given) => {
    expect(() => normalizeSource(given)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
