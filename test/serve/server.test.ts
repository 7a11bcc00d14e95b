// The real server on an ephemeral loopback port, with real ONNX models in a real git registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { route } from '../../src/canary/route.js';
import { featurize, parseFeatureSchema, parseFittedState } from '../../src/data/features.js';
import { readOutcomesPage } from '../../src/data/outcome-store.js';
import { loadOnnxModel } from '../../src/train/onnx-model.js';
import { OUTCOMES_TOTAL, RESPONSE_TIME_MS } from '../../src/metrics/prometheus-names.js';
import { tempDir } from '../helpers/gitdir.js';
import { M, SERVE_SCHEMA, servingSuiteRepo, type SuiteRepo, http, outcome, parseExposition, postJson, record, sampleValue, trainedArtifact, twoVersionRepo } from './helpers.js';

const deployments = { model: M, production: 'v1.0.0', canary: { version: 'v1.1.0', weight: 0.5 } };

let repo: SuiteRepo;
let s: RunningServer;
const predictUrl = () => `${s.url}/v1/models/${M}/predict`;

beforeAll(async () => {
  repo = await twoVersionRepo(0.5, servingSuiteRepo());
  s = await startServer({ dir: repo.dir, pollIntervalMs: 0, durability: 'fsync' });
});
afterAll(async () => {
  await s?.close();
  repo?.remove();
});

describe('predictions', () => {
  it('splits keys between production and canary at the configured weight, as route() says, each key sticky', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => `key-${i}.example.net`);
    const seen = new Map<string, string>();
    for (let b = 0; b < keys.length; b += 200) {
      const batch = keys.slice(b, b + 200).map((key, i) => record(b + i, { key }));
      const r = await postJson(predictUrl(), { records: batch });
      expect(r.status).toBe(200);
      const preds = r.json().predictions as Array<{ version: string; route: string; bucket: number; probability: number }>;
      expect(preds).toHaveLength(batch.length);
      preds.forEach((p, i) => {
        const want = route(deployments, batch[i]!.key as string);
        expect({ version: p.version, route: p.route, bucket: p.bucket }).toEqual(want);
        expect(p.probability).toBeGreaterThan(0);
        expect(p.probability).toBeLessThan(1);
        seen.set(batch[i]!.key as string, p.version);
      });
      expect(String(r.headers['x-model-version']).split(', ').sort()).toEqual(['v1.0.0', 'v1.1.0']);
    }
    const canary = [...seen.values()].filter((v) => v === 'v1.1.0').length / keys.length;
    expect(canary).toBeGreaterThan(0.42);
    expect(canary).toBeLessThan(0.58);
    // Sticky: asking again, one record at a time, gives the same version, named in the header.
    for (const key of keys.slice(0, 30)) {
      const r = await postJson(predictUrl(), record(1, { key }));
      expect(r.status).toBe(200);
      expect(r.json().version).toBe(seen.get(key));
      expect(r.headers['x-model-version']).toBe(seen.get(key));
    }
  });

  it('routes by domain when the request has no key, else by task_id', async () => {
    const byDomain = await postJson(predictUrl(), record(7, { domain: 'Shop.Example.com' }));
    expect(byDomain.json()).toMatchObject({ version: route(deployments, 'Shop.Example.com').version, bucket: route(deployments, 'Shop.Example.com').bucket });
    const byTask = await postJson(predictUrl(), record(8, { domain: undefined, task_id: 'only-a-task' }));
    expect(byTask.json().bucket).toBe(route(deployments, 'only-a-task').bucket);
  });

  it('scores each record with its own version: the probability onnxruntime gives for that version and its fitted state', async () => {
    const schema = parseFeatureSchema(SERVE_SCHEMA);
    const refs = {
      'v1.0.0': { a: trainedArtifact('logistic'), scorer: await loadOnnxModel(trainedArtifact('logistic').onnx) },
      'v1.1.0': { a: trainedArtifact('gbdt'), scorer: await loadOnnxModel(trainedArtifact('gbdt').onnx) },
    };
    const check = async (recs: Array<Record<string, unknown>>, preds: Array<{ version: 'v1.0.0' | 'v1.1.0'; probability: number }>) => {
      expect(new Set(preds.map((p) => p.version)).size).toBe(2);
      for (let i = 0; i < recs.length; i++) {
        const ref = refs[preds[i]!.version];
        const x = featurize(schema, parseFittedState(ref.a.features.toString('utf8')), recs[i] as never);
        const [want] = await ref.scorer.predict({ X: x, n: 1, f: x.length });
        expect(Math.abs(preds[i]!.probability - want!)).toBeLessThan(1e-6);
      }
    };
    try {
      const recs = Array.from({ length: 40 }, (_, i) => record(i, { key: `k${i}` }));
      const r = await postJson(predictUrl(), recs);
      await check(recs, r.json().predictions);
      // Concurrent one-record requests are scored together (dynamic batching): same answers.
      const singles = await Promise.all(recs.map((rec) => postJson(predictUrl(), rec)));
      await check(recs, singles.map((x) => x.json()));
    } finally {
      await refs['v1.0.0'].scorer.close();
      await refs['v1.1.0'].scorer.close();
    }
  });

  it('measures response_time_ms per prediction and answers an array or { instances }', async () => {
    const single = (await postJson(predictUrl(), record(3))).json();
    expect(single.response_time_ms).toBeGreaterThan(0);
    expect(single.response_time_ms).toBeLessThan(5000);
    expect(single).toMatchObject({ model: M, route: expect.stringMatching(/^(production|canary)$/) });
    const inst = await postJson(predictUrl(), { instances: [record(1), record(2)] });
    expect(inst.json().predictions).toHaveLength(2);
    for (const p of inst.json().predictions) expect(p.response_time_ms).toBeGreaterThan(0);
    const kserve = await postJson(`${s.url}/v1/models/${M}:predict`, record(1));
    expect(kserve.status).toBe(200);
  });

  it('lists the models it serves and their state', async () => {
    const list = (await http(`${s.url}/v1/models`)).json();
    expect(list.models).toEqual([expect.objectContaining({ model: M, production: 'v1.0.0', canary: { version: 'v1.1.0', weight: 0.5 }, ready: true, up_to_date: true })]);
    expect((await http(`${s.url}/v1/models/${M}`)).json()).toMatchObject({ production: 'v1.0.0' });
    expect((await http(`${s.url}/v1/models/nope`)).json().error.code).toBe('MODEL_NOT_FOUND');
  });
});

describe('outcome ingest', () => {
  it('a record answered 2xx is in the store, and GET /v1/outcomes pages through it with cursors', async () => {
    const one = await postJson(`${s.url}/v1/outcomes`, outcome(1));
    expect(one.status).toBe(200);
    expect(one.json()).toEqual({ accepted: 1 });
    // Readable from the store as soon as the call returned (the collector synced it).
    const page = await readOutcomesPage({ dir: repo.dir });
    expect(page.records.map((r) => r.task_id)).toContain('out-1');

    const batch = [2, 3, 4, 5, 6].map((i) => JSON.stringify(outcome(i, i === 5 ? { model_version: 'v1.1.0' } : {}))).join('\n') + '\n';
    const nd = await http(`${s.url}/v1/outcomes`, { method: 'POST', body: batch, headers: { 'content-type': 'application/x-ndjson' } });
    expect(nd.status).toBe(200);
    expect(nd.json()).toEqual({ accepted: 5 });

    const got: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10; pages++) {
      const r = await http(`${s.url}/v1/outcomes?limit=2${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/x-ndjson/);
      for (const line of r.text.split('\n').filter(Boolean)) got.push(JSON.parse(line).task_id);
      cursor = String(r.headers['x-mlops-next-cursor']);
      if (r.headers['x-mlops-done'] === 'true') break;
    }
    expect(got).toEqual(['out-1', 'out-2', 'out-3', 'out-4', 'out-5', 'out-6']);
    const after = await http(`${s.url}/v1/outcomes?after=${encodeURIComponent(cursor)}`);
    expect(after.text).toBe('');
    expect(after.headers['x-mlops-done']).toBe('true');
    // The cursor stays valid after appends: the next page has exactly the new record.
    await postJson(`${s.url}/v1/outcomes`, outcome(7));
    const next = await http(`${s.url}/v1/outcomes?after=${encodeURIComponent(cursor)}`);
    expect(next.text.trim().split('\n').map((l) => JSON.parse(l).task_id)).toEqual(['out-7']);
  });

  it('counts outcomes by model, version, route and result, a task_id once', async () => {
    const before = parseExposition((await http(`${s.url}/metrics`)).text);
    const base = sampleValue(before, OUTCOMES_TOTAL, { version: 'v1.1.0', route: 'canary', result: 'error' }) ?? 0;
    const rec = outcome(100, { model_version: 'v1.1.0', result: 'error', response_time_ms: 150 });
    expect((await postJson(`${s.url}/v1/outcomes`, rec)).status).toBe(200);
    expect((await postJson(`${s.url}/v1/outcomes`, rec)).status).toBe(200); // a client retry
    const after = parseExposition((await http(`${s.url}/metrics`)).text);
    expect(sampleValue(after, OUTCOMES_TOTAL, { model: M, version: 'v1.1.0', route: 'canary', result: 'error' })).toBe(base + 1);
    const le = (b: string) => sampleValue(after, `${RESPONSE_TIME_MS}_bucket`, { version: 'v1.1.0', route: 'canary', le: b }) ?? 0;
    expect(le('200') - le('100')).toBeGreaterThanOrEqual(1);
  });

  it('rejects a batch with one bad record as a whole, naming its index, line and field; nothing is written', async () => {
    const before = (await readOutcomesPage({ dir: repo.dir, limit: 100_000 })).records.length;
    const lines = [outcome(200), outcome(201), { ...outcome(202), result: 'maybe' }, outcome(203)].map((r) => JSON.stringify(r));
    const r = await http(`${s.url}/v1/outcomes`, { method: 'POST', body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
    expect(r.status).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'OUTCOME_INVALID', position: { index: 2, line: 3, field: '/result' } });
    expect(r.json().error.message).toMatch(/nothing was written/);
    expect((await readOutcomesPage({ dir: repo.dir, limit: 100_000 })).records.length).toBe(before);
    // The same batch as a JSON array: the index, no line.
    const arr = await postJson(`${s.url}/v1/outcomes`, lines.map((l) => JSON.parse(l)));
    expect(arr.json().error.position).toEqual({ index: 2, field: '/result' });
  });

  it('reads NDJSON sent without an NDJSON content type (curl --data-binary)', async () => {
    const body = [outcome(300), outcome(301)].map((o) => JSON.stringify(o)).join('\n');
    const r = await http(`${s.url}/v1/outcomes`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.json()).toEqual({ accepted: 2 });
  });
});

describe('metrics, health and readiness', () => {
  it('/metrics is valid Prometheus text: every sample typed, histograms cumulative, +Inf = count', async () => {
    await postJson(predictUrl(), record(1));
    const r = await http(`${s.url}/metrics`);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const e = parseExposition(r.text);
    for (const [name, type] of e.types) {
      expect(e.help.has(name), `HELP for ${name}`).toBe(true);
      if (type !== 'histogram') continue;
      const series = new Map<string, Array<{ le: number; v: number }>>();
      for (const smp of e.samples.filter((x) => x.name === `${name}_bucket`)) {
        const { le, ...rest } = smp.labels;
        const k = JSON.stringify(rest);
        series.set(k, [...(series.get(k) ?? []), { le: le === '+Inf' ? Infinity : Number(le), v: smp.value }]);
      }
      for (const [k, buckets] of series) {
        for (let i = 1; i < buckets.length; i++) {
          expect(buckets[i]!.le).toBeGreaterThan(buckets[i - 1]!.le);
          expect(buckets[i]!.v).toBeGreaterThanOrEqual(buckets[i - 1]!.v);
        }
        const count = e.samples.find((x) => x.name === `${name}_count` && JSON.stringify(x.labels) === k)?.value;
        expect(buckets.at(-1)!.le).toBe(Infinity);
        expect(buckets.at(-1)!.v).toBe(count);
      }
    }
    expect(e.types.get(OUTCOMES_TOTAL)).toBe('counter');
    expect(e.types.get(RESPONSE_TIME_MS)).toBe('histogram');
    expect(sampleValue(e, 'mlops_model_version_loaded', { version: 'v1.0.0', stage: 'production' })).toBe(1);
    expect(sampleValue(e, 'mlops_model_version_loaded', { version: 'v1.1.0', stage: 'canary' })).toBe(1);
    expect(sampleValue(e, 'mlops_canary_weight', { version: 'v1.1.0' })).toBe(0.5);
    expect(sampleValue(e, 'mlops_predictions_total', { result: 'ok' })).toBeGreaterThan(0);
    // The canary's latency bounds are bucket boundaries.
    for (const b of ['100', '200']) expect(sampleValue(e, `${RESPONSE_TIME_MS}_bucket`, { le: b })).toBeDefined();
  });

  it('/healthz and /readyz answer, readyz listing what serves', async () => {
    expect((await http(`${s.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await http(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', ready: true, models: { [M]: { production: 'v1.0.0', failures: [] } } });
    expect((await http(`${s.url}/readyz?strict=1`)).status).toBe(200);
  });
});

describe('bad input: 4xx with a code and a position, and the server keeps serving', () => {
  const missingFeature = { ...record(1), features: {} };
  it.each<[string, string | Buffer, number, string, Record<string, unknown>?]>([
    ['malformed JSON', '{"domain": x}', 400, 'JSON_INVALID', { line: 1, column: 12, offset: 11 }],
    ['truncated JSON', '{"domain": "a.org"', 400, 'JSON_INVALID', { offset: 18 }],
    ['JSON on the second line', '{\n  "domain": "a.org",,\n}', 400, 'JSON_INVALID', { line: 2, column: 21, offset: 22 }],
    ['not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 400, 'JSON_INVALID'],
    ['a number', '42', 400, 'REQUEST_INVALID'],
    ['domain of the wrong type', JSON.stringify(record(1, { domain: 5 })), 400, 'REQUEST_INVALID', { index: 0, field: '/domain' }],
    ['features not an object', JSON.stringify(record(1, { features: [1] })), 400, 'REQUEST_INVALID', { index: 0, field: '/features' }],
    ['a feature of the wrong type', JSON.stringify(record(1, { features: { domain_authority: { v: 1 } } })), 400, 'REQUEST_INVALID', { index: 0, field: '/features/domain_authority' }],
    ['a bad timestamp', JSON.stringify(record(1, { timestamp: 'yesterday' })), 400, 'REQUEST_INVALID', { index: 0, field: '/timestamp' }],
    ['a missing required feature', JSON.stringify(missingFeature), 400, 'FEATURE_MISSING', { index: 0, field: '/features/domain_authority' }],
    ['a batch with one bad record', JSON.stringify({ records: [record(1), record(2), missingFeature, record(3)] }), 400, 'FEATURE_MISSING', { index: 2 }],
    ['a batch with a non-object', JSON.stringify([record(1), 'x']), 400, 'REQUEST_INVALID', { index: 1 }],
    ['an empty batch', JSON.stringify({ records: [] }), 400, 'REQUEST_INVALID'],
    ['records not an array', JSON.stringify({ records: {} }), 400, 'REQUEST_INVALID', { field: '/records' }],
    ['no routing key at all', JSON.stringify({ features: { domain_authority: 3 } }), 400, 'ROUTING_KEY_MISSING', { index: 0 }],
  ])('%s', async (_name, body, status, code, position) => {
    const r = await http(predictUrl(), { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json().error.code).toBe(code);
    expect(typeof r.json().error.message).toBe('string');
    if (position) expect(r.json().error.position).toMatchObject(position);
    expect((await postJson(predictUrl(), record(1))).status).toBe(200);
  });

  it('unknown model, unknown path, wrong method', async () => {
    const unknown = await postJson(`${s.url}/v1/models/other-model/predict`, record(1));
    expect([unknown.status, unknown.json().error.code]).toEqual([404, 'MODEL_NOT_FOUND']);
    const nowhere = await http(`${s.url}/v2/whatever`);
    expect([nowhere.status, nowhere.json().error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
    const get = await http(predictUrl());
    expect([get.status, get.json().error.code, get.headers.allow]).toEqual([405, 'METHOD_NOT_ALLOWED', 'POST']);
    const put = await http(`${s.url}/v1/outcomes`, { method: 'PUT', body: '{}' });
    expect([put.status, put.headers.allow]).toEqual([405, 'GET, POST']);
    expect((await http(`${s.url}/v1/outcomes?limit=0`)).json().error).toMatchObject({ code: 'REQUEST_INVALID', position: { field: 'limit' } });
    expect((await http(`${s.url}/v1/outcomes?after=garbage`)).json().error.code).toBe('INVALID_ARGUMENT');
  });
});

describe('limits, auth and slow clients', () => {
  let t: RunningServer;
  const TOKEN = 's3cret-token';
  beforeAll(async () => {
    t = await startServer({ dir: repo.dir, token: TOKEN, bodyLimit: 4096, headersTimeoutMs: 300, requestTimeoutMs: 600, pollIntervalMs: 0, watch: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('outcome endpoints need the bearer token; predictions and metrics do not', async () => {
    const none = await postJson(`${t.url}/v1/outcomes`, outcome(400));
    expect([none.status, none.json().error.code, none.headers['www-authenticate']]).toEqual([401, 'UNAUTHORIZED', 'Bearer realm="mlops"']);
    const wrong = await postJson(`${t.url}/v1/outcomes`, outcome(400), { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect((await http(`${t.url}/v1/outcomes`)).status).toBe(401);
    expect((await http(`${t.url}/v1/outcomes`, { headers: { authorization: 'Basic czNjcmV0' } })).status).toBe(401);
    const ok = await postJson(`${t.url}/v1/outcomes`, outcome(400), { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect((await http(`${t.url}/v1/outcomes?limit=1`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await postJson(`${t.url}/v1/models/${M}/predict`, record(1))).status).toBe(200);
    expect((await http(`${t.url}/metrics`)).status).toBe(200);
  });

  it('refuses a body over the limit with 413, declared or streamed, and keeps serving', async () => {
    const big = JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => record(i)) });
    expect(big.length).toBeGreaterThan(4096);
    const declared = await http(`${t.url}/v1/models/${M}/predict`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    expect([declared.status, declared.json().error.code]).toEqual([413, 'BODY_TOO_LARGE']);
    // Chunked: no content-length, the limit is enforced while reading.
    const streamed = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      const sock = connect(t.port, '127.0.0.1', () => {
        sock.write(`POST /v1/models/${M}/predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`);
        for (let i = 0; i < big.length; i += 1000) {
          const part = big.slice(i, i + 1000);
          sock.write(`${part.length.toString(16)}\r\n${part}\r\n`);
        }
        sock.write('0\r\n\r\n');
      });
      let text = '';
      sock.on('data', (d) => (text += d));
      sock.on('close', () => {
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
        resolve({ status, code: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code });
      });
      sock.on('error', reject);
    });
    expect(streamed).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    expect((await postJson(`${t.url}/v1/models/${M}/predict`, record(1))).status).toBe(200);
  });

  it.each([
    ['headers that never finish', `POST /v1/models/${M}/predict HTTP/1.1\r\nhost: x\r\ncontent-type: app`],
    ['a body that never finishes', `POST /v1/models/${M}/predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"domain":`],
  ])('cuts a slow client (%s) with 408 and keeps serving others', async (_name, partial) => {
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(t.port, '127.0.0.1', () => sock.write(partial));
      let text = '';
      sock.on('data', (d) => (text += d));
      sock.on('close', () => resolve(text));
      sock.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await postJson(`${t.url}/v1/models/${M}/predict`, record(1))).status).toBe(200);
  });
});

describe('static files (staticRoot)', () => {
  it('serves files and index.html under /, never a listing or anything outside the folder', async () => {
    const root = tempDir();
    const site = join(root, 'site');
    mkdirSync(join(site, 'assets'), { recursive: true });
    mkdirSync(join(site, 'empty'));
    writeFileSync(join(site, 'index.html'), '<h1>dashboard</h1>');
    writeFileSync(join(site, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'do not serve');
    symlinkSync(join(root, 'secret.txt'), join(site, 'leak.txt'));
    const st = await startServer({ dir: repo.dir, staticRoot: site, pollIntervalMs: 0, watch: false });
    try {
      const index = await http(`${st.url}/`);
      expect([index.status, index.headers['content-type'], index.text]).toEqual([200, 'text/html; charset=utf-8', '<h1>dashboard</h1>']);
      const js = await http(`${st.url}/assets/app.js`);
      expect([js.status, js.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
      for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/leak.txt', '/empty/', '/assets', '/nope.html', '/%00', '/%E0%A4%A']) {
        const r = await http(`${st.url}${p}`);
        expect(r.status, p).toBe(404);
        expect(r.text).not.toContain('do not serve');
      }
      expect((await http(`${st.url}/metrics`)).status).toBe(200); // endpoints win over files
    } finally {
      await st.close();
    }
  });
});
