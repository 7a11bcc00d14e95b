import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import { prometheusSource, exactIncrease } from '../../src/metrics/prometheus-source.js';
import { OUTCOMES_TOTAL, RESPONSE_TIME_MS, responseTimeBuckets } from '../../src/metrics/prometheus-names.js';

const thresholds = { canary: { max_response_time_ms: 100 }, rollback: { max_response_time_ms: 200 } };

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${addr.port}` });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function pollUntil<T>(what: string, fn: () => Promise<T | undefined>, deadlineMs: number): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200)); // a poll interval, not a synchronisation sleep
  }
}

describe('exactIncrease', () => {
  it('builds the per-series difference with a reset fallback', () => {
    const q = exactIncrease('m{a="b"}', 3600, 'result');
    expect(q.exact).toBe('sum by (result) (((last_over_time(m{a="b"}[3600s]) - m{a="b"} offset 3600s) or last_over_time(m{a="b"}[3600s])) unless (resets(m{a="b"}[3600s]) > 0))');
    expect(q.approx).toBe('sum by (result) (increase(m{a="b"}[3600s]) and (resets(m{a="b"}[3600s]) > 0))');
  });

  it('exports buckets that include the configured bounds', () => {
    expect(responseTimeBuckets([100, 200, 175])).toEqual([1, 2.5, 5, 10, 25, 50, 100, 150, 175, 200, 300, 500, 1000, 2500, 5000, 10000]);
    for (const b of [5, 10, 25, 50, 100, 150, 200, 300, 500, 1000, 2500]) expect(responseTimeBuckets()).toContain(b);
  });
});

describe('prometheusSource against a fake Prometheus API', () => {
  let server: Server | undefined;
  afterEach(async () => {
    // Keep-alive sockets of requests abandoned after the first failure would hold close() open.
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  async function fake(handler: (q: string, res: ServerResponse) => void): Promise<string> {
    const s = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => handler(new URLSearchParams(body).get('query') ?? '', res));
    });
    server = s.server;
    return s.url;
  }
  const vector = (result: Array<{ metric: Record<string, string>; value: string }>) =>
    JSON.stringify({ status: 'success', data: { resultType: 'vector', result: result.map((r) => ({ metric: r.metric, value: [1764400000, r.value] })) } });
  const request = { model: 'backlink-success', version: 'v1.3.0', startedAt: '2026-11-29T09:00:00Z', at: '2026-11-29T10:00:00Z', thresholds };

  it('turns vectors into stream counts', async () => {
    const seen: string[] = [];
    const url = await fake((q, res) => {
      seen.push(q);
      res.setHeader('content-type', 'application/json');
      if (q.includes('increase(')) return res.end(vector([]));
      if (q.includes(OUTCOMES_TOTAL)) {
        return res.end(vector([{ metric: { result: 'success' }, value: '40' }, { metric: { result: 'failure' }, value: '8' }, { metric: { result: 'error' }, value: '2' }]));
      }
      res.end(vector([{ metric: { le: '50' }, value: '30' }, { metric: { le: '100' }, value: '45' }, { metric: { le: '200' }, value: '49' }, { metric: { le: '+Inf' }, value: '50' }]));
    });
    const r = await prometheusSource({ url }).streams(request);
    expect({ S: r.S, E: r.E, Lup: r.Lup, Ldown: r.Ldown }).toEqual({ S: { n: 50, k: 10 }, E: { n: 50, k: 2 }, Lup: { n: 50, k: 5 }, Ldown: { n: 50, k: 1 } });
    expect(r.approximate).toBe(false);
    expect(seen.every((q) => q.includes('model="backlink-success",version="v1.3.0"') && q.includes('[3600s]'))).toBe(true);
  });

  it('answers an empty vector (no traffic yet) with zero counts', async () => {
    const url = await fake((_q, res) => res.end(vector([])));
    const r = await prometheusSource({ url }).streams(request);
    expect(r.S).toEqual({ n: 0, k: 0 });
    expect(r.Ldown).toEqual({ n: 0, k: 0 });
  });

  it('fails with a hint when a latency bound is not a bucket boundary', async () => {
    const url = await fake((q, res) =>
      res.end(q.includes('_bucket') && !q.includes('increase(') ? vector([{ metric: { le: '150' }, value: '3' }, { metric: { le: '+Inf' }, value: '3' }]) : vector([])),
    );
    await expect(prometheusSource({ url }).streams(request)).rejects.toMatchObject({ code: 'METRICS_SOURCE_FAILED', message: expect.stringMatching(/no bucket boundary at 100 ms/) });
  });

  it.each([
    ['HTTP 500 with text', (res: ServerResponse) => res.writeHead(500).end('upstream exploded'), /not JSON/],
    ['an API error', (res: ServerResponse) => res.writeHead(400).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' })), /HTTP 400, bad_data: parse error/],
    ['an HTML page', (res: ServerResponse) => res.end('<html>login</html>'), /not JSON/],
    ['a matrix', (res: ServerResponse) => res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })), /expected a vector/],
    ['a NaN count', (res: ServerResponse) => res.end(vector([{ metric: { result: 'success' }, value: 'NaN' }])), /a count is "NaN"/],
    ['a negative count', (res: ServerResponse) => res.end(vector([{ metric: { result: 'success' }, value: '-3' }])), /a count is "-3"/],
    ['a malformed item', (res: ServerResponse) => res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ value: 3 }] } })), /not \{metric, value/],
    ['JSON null', (res: ServerResponse) => res.end('null'), /status undefined/],
    ['a bucket without le', (res: ServerResponse) => res.end(vector([{ metric: {}, value: '1' }])), /./],
  ])('fails with METRICS_SOURCE_FAILED on %s', async (_name, reply, message) => {
    const url = await fake((_q, res) => reply(res));
    await expect(prometheusSource({ url }).streams(request)).rejects.toMatchObject({ code: 'METRICS_SOURCE_FAILED', message: expect.stringMatching(message) });
  });

  it('fails with METRICS_SOURCE_FAILED on a server that never answers', async () => {
    const url = await fake(() => {
      /* hold the request open */
    });
    await expect(prometheusSource({ url, timeoutMs: 300 }).streams(request)).rejects.toMatchObject({ code: 'METRICS_SOURCE_FAILED', message: expect.stringMatching(/no answer within 300 ms/) });
  });

  it('fails with METRICS_SOURCE_FAILED when nothing listens', async () => {
    const port = await freePort();
    await expect(prometheusSource({ url: `http://127.0.0.1:${port}` }).streams(request)).rejects.toMatchObject({ code: 'METRICS_SOURCE_FAILED', message: expect.stringMatching(/did not answer/) });
  });
});

const PROMETHEUS = '/usr/bin/prometheus';
const hasPrometheus = existsSync(PROMETHEUS);
if (!hasPrometheus) console.warn(`skipping the real-Prometheus test: ${PROMETHEUS} is not installed (apt-get install prometheus)`);

describe.skipIf(!hasPrometheus)('prometheusSource against a real Prometheus scraping prom-client counters', () => {
  const registry = new Registry();
  const outcomes = new Counter({ name: OUTCOMES_TOTAL, help: 'outcomes', labelNames: ['model', 'version', 'route', 'result'], registers: [registry] });
  const latency = new Histogram({ name: RESPONSE_TIME_MS, help: 'response time', labelNames: ['model', 'version', 'route'], buckets: responseTimeBuckets([100, 200]), registers: [registry] });
  let exporter: { server: Server; url: string };
  let prom: ChildProcess;
  let promUrl = '';
  let dir = '';
  const testStart = Date.now() - 60_000;

  function record(version: string, route: string, result: string, ms: number, times = 1) {
    for (let i = 0; i < times; i++) {
      outcomes.inc({ model: 'backlink-success', version, route, result });
      latency.observe({ model: 'backlink-success', version, route }, ms);
    }
  }
  async function scraped(expr: string): Promise<number | undefined> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const j = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    return j.data.result.length ? Number(j.data.result[0]!.value[1]) : undefined;
  }
  const request = (startedAt: number) => ({ model: 'backlink-success', version: 'v1.3.0', production: 'v1.2.0', startedAt, at: Date.now(), thresholds });

  beforeAll(async () => {
    // Label combinations created at 0 first, as the server does when it loads a version.
    for (const v of ['v1.3.0', 'v1.2.0']) for (const r of ['success', 'failure', 'error']) outcomes.inc({ model: 'backlink-success', version: v, route: v === 'v1.3.0' ? 'canary' : 'production', result: r }, 0);
    record('v1.3.0', 'canary', 'success', 40, 40);
    record('v1.3.0', 'canary', 'failure', 150, 8);
    record('v1.3.0', 'canary', 'error', 250, 2);
    record('v1.2.0', 'production', 'success', 20, 300);
    record('v1.2.0', 'production', 'error', 99, 3);
    exporter = await listen(async (_req, res) => {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    });
    dir = mkdtempSync(join(tmpdir(), 'mlops-prom-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: mlops\n    static_configs:\n      - targets: ['${exporter.url.replace('http://', '')}']\n`,
    );
    prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    await pollUntil('the first scrape', () => scraped(`sum(${OUTCOMES_TOTAL}{version="v1.3.0"})`), 60_000);
  }, 90_000);

  afterAll(async () => {
    if (prom?.pid) prom.kill('SIGTERM');
    await new Promise<void>((r) => (prom && prom.exitCode === null ? prom.once('exit', () => r()) : r()));
    await new Promise<void>((r) => exporter.server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts exactly what the exporter counted', async () => {
    const r = await prometheusSource({ url: promUrl }).streams(request(testStart));
    expect({ S: r.S, E: r.E, Lup: r.Lup, Ldown: r.Ldown }).toEqual({ S: { n: 50, k: 10 }, E: { n: 50, k: 2 }, Lup: { n: 50, k: 10 }, Ldown: { n: 50, k: 2 } });
    expect(r.production).toEqual({ S: { n: 303, k: 3 }, E: { n: 303, k: 3 }, Lup: { n: 303, k: 0 }, Ldown: { n: 303, k: 0 } });
    expect(r.approximate).toBe(false);
  });

  it('counts only what happened after the canary started', async () => {
    const startedAt = Date.now();
    record('v1.3.0', 'canary', 'error', 300, 5);
    await pollUntil('the increments', async () => ((await scraped(`sum(${OUTCOMES_TOTAL}{version="v1.3.0",result="error"})`)) === 7 ? true : undefined), 30_000);
    const r = await prometheusSource({ url: promUrl }).streams(request(startedAt));
    expect({ S: r.S, E: r.E, Ldown: r.Ldown }).toEqual({ S: { n: 5, k: 5 }, E: { n: 5, k: 5 }, Ldown: { n: 5, k: 5 } });
    expect(r.production!.S).toEqual({ n: 0, k: 0 });
  });

  it('falls back to increase() and says so when a counter resets (a restarted replica)', async () => {
    const startedAt = Date.now();
    // A restart: the process starts from zero and counts 4 more.
    outcomes.reset();
    latency.reset();
    record('v1.3.0', 'canary', 'success', 10, 4);
    await pollUntil('the reset', async () => ((await scraped(`sum(${OUTCOMES_TOTAL}{version="v1.3.0"})`)) === 4 ? true : undefined), 30_000);
    const r = await prometheusSource({ url: promUrl }).streams(request(startedAt - 5_000));
    expect(r.approximate).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/counter reset/);
    // increase() extrapolates, so only a range can be asserted: the 4 new outcomes at least.
    expect(r.S.n).toBeGreaterThanOrEqual(4);
  });
});
