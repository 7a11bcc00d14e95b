// `mlops serve`: the HTTP server on node:http. Endpoints (README.md here has the contract):
//   POST /v1/models/<model>/predict   one record, an array, or { "records": [...] }
//   GET  /v1/models, /v1/models/<model>
//   POST /v1/outcomes                 one JSON record, a JSON array, or NDJSON (all or nothing)
//   GET  /v1/outcomes?after=&limit=   NDJSON page of the store; next cursor in x-mlops-next-cursor
//   GET  /metrics, /healthz, /readyz  (/readyz?strict=1: also up to date with deployments.yaml)
//   GET  /<file>                      from staticRoot, when given
import { createServer, ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, type Server } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { MlopsError, type ErrorCode } from '../errors.js';
import { getFeedbackCollector, type FeedbackCollector } from '../data/collector.js';
import { outcomeToJson } from '../data/outcome.js';
import { readOutcomesPage } from '../data/outcome-store.js';
import { isVersion } from '../registry/semver.js';
import { collectBody, decodeBody, parseJson, parseNdjson, readBody, requestError, sendError, sendJson, type Position } from './http.js';
import { createServeMetrics } from './metrics.js';
import { ModelPool, type ReloadReport, type ServingStatus } from './model-pool.js';
import { checkPredictRecord, predictOne, predictRecords, recordsOfBody, type PredictHooks } from './predict.js';
import { serveStatic } from './static-files.js';

export interface LogEvent {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [key: string]: unknown;
}

export interface StartServerOptions {
  /** Registry directory (the working tree of the registry repository). */
  dir: string;
  /** Default 127.0.0.1: exposing the server is a decision, not a default. */
  host?: string;
  /** Default 0: an ephemeral port (read it from the result). */
  port?: number;
  /** Bearer token required on both outcome endpoints; null/undefined = no auth. */
  token?: string | null;
  /** Largest request body in bytes (413 above it). Default 4 MiB. */
  bodyLimit?: number;
  /** Most records in one predict or outcome request. Default 10,000. */
  maxRecords?: number;
  /** Time a client gets to send its headers (408 after). Default 10 s. */
  headersTimeoutMs?: number;
  /** Time a client gets to send its whole request, body included (408 after). Default 30 s. */
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** How long close() waits for requests in flight before cutting connections. Default 10 s. */
  drainTimeoutMs?: number;
  /** Structured log lines (JSON-able). Default: none. */
  log?: (event: LogEvent) => void;
  /** Serve this folder's files under `/` (the dashboard). */
  staticRoot?: string;
  /** Hot reload: fs.watch (default true), stat poll interval (default 2000 ms, 0 = off), debounce (50 ms). */
  watch?: boolean;
  pollIntervalMs?: number;
  debounceMs?: number;
  /** onnxruntime intra-op threads per session. Default 1. */
  threads?: number;
  /** One-record requests of a version scored together per event-loop turn, at most (default 64; 1 = off). */
  maxBatchRows?: number;
  /** Swapped-out versions kept loaded per model, so a rollback loads nothing. Default 1. */
  keepWarm?: number;
  /** Latency bounds of the canary configuration, added to the response-time histogram's buckets. */
  responseTimeBounds?: number[];
  /** prom-client's process metrics on /metrics. Default true. */
  defaultMetrics?: boolean;
  /** Outcome store durability (default 'fsync': a 2xx means the records survive a crash). */
  durability?: 'fsync' | 'none';
  now?: () => Date;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** Stops accepting, drains requests in flight, closes sessions. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the server has stopped, whoever called close(). */
  closed: Promise<void>;
  /** Checks the registry now; resolves when that check finished. */
  reload(): Promise<ReloadReport>;
  /** Resolves with the next finished check (from a file event, the poll or reload()). */
  nextReload(): Promise<ReloadReport>;
  /** Resolves once the serving status satisfies `predicate` (checked after every reload). */
  waitFor(predicate: (s: ServingStatus) => boolean, opts?: { timeoutMs?: number }): Promise<ServingStatus>;
  onReload(listener: (r: ReloadReport) => void): () => void;
  status(): ServingStatus;
  /** This server's Prometheus registry. */
  metrics: Registry;
  /** Requests being answered right now. */
  inFlight(): number;
}

/** Task ids seen recently, so a retried report is not counted twice in the metrics. */
class RecentIds {
  private current = new Set<string>();
  private previous = new Set<string>();
  constructor(private readonly cap: number) {}
  addIfNew(id: string): boolean {
    if (this.current.has(id) || this.previous.has(id)) return false;
    this.current.add(id);
    if (this.current.size >= this.cap) {
      this.previous = this.current;
      this.current = new Set();
    }
    return true;
  }
}

function tokenDigest(t: string): Buffer {
  return createHash('sha256').update(t, 'utf8').digest();
}

export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const dir = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  const bodyLimit = opts.bodyLimit ?? 4 << 20;
  const maxRecords = opts.maxRecords ?? 10_000;
  const log = opts.log ?? (() => undefined);
  const now = opts.now ?? (() => new Date());
  const tokenHash = opts.token ? tokenDigest(opts.token) : null;
  const metrics = createServeMetrics({ responseTimeBounds: opts.responseTimeBounds, defaultMetrics: opts.defaultMetrics });
  const collector: FeedbackCollector = getFeedbackCollector({ dir, durability: opts.durability ?? 'fsync' });
  const recent = new RecentIds(100_000);

  const pool = new ModelPool({
    root: dir,
    threads: opts.threads ?? 1,
    watch: opts.watch,
    pollIntervalMs: opts.pollIntervalMs,
    debounceMs: opts.debounceMs,
    keepWarm: opts.keepWarm,
    now,
    onReport: (r) => {
      metrics.serving(r.status);
      for (const f of r.newFailures) {
        metrics.loadFailure(f.model, f.version, f.code);
        log({ level: 'error', msg: 'version failed to load; the previous set keeps serving', model: f.model, version: f.version, stage: f.stage, code: f.code, error: f.message });
      }
      metrics.reload(r.newFailures.length ? 'failed' : r.swapped.length ? 'swapped' : 'unchanged');
      for (const m of r.swapped) {
        const s = r.status.models[m]?.serving;
        log({ level: 'info', msg: 'serving', model: m, production: s?.production ?? null, canary: s?.canary ?? null, reason: r.reason });
      }
    },
  });

  const hooks: PredictHooks = {
    onPrediction: (model, version, route, seconds) => metrics.prediction(model, version, route, seconds),
    onError: (model, version, route, n) => metrics.predictionError(model, version, route, n),
    maxBatchRows: opts.maxBatchRows,
  };

  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | null = null;

  // Responses still to be written when shutdown begins answer with `connection: close`, so their
  // clients do not reuse the socket. This is decided as each response writes its head, rather than
  // by keeping the requests in flight in a Set: a long-lived Set that every request enters and
  // leaves made V8 promote about a fifth of all allocation to the old generation (scavenges of
  // 15-20 ms instead of about 1), a fifth of the CPU time of a prediction.
  class Response extends ServerResponse {
    override writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
    override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
    override writeHead(...args: [number, ...unknown[]]): this {
      if (closing && !this.headersSent) this.setHeader('connection', 'close');
      return (super.writeHead as (...a: unknown[]) => this).apply(this, args);
    }
  }

  const onInternal = (e: unknown) => log({ level: 'error', msg: 'internal error', error: String((e as Error)?.stack ?? e) });

  function requireToken(req: IncomingMessage): void {
    if (!tokenHash) return;
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
    if (!m || !timingSafeEqual(tokenDigest(m[1]!), tokenHash)) {
      throw requestError('UNAUTHORIZED', m ? 'the bearer token is not valid' : 'this endpoint needs `Authorization: Bearer <token>`', {
        hint: 'Use the token the server was started with (MLOPS_TOKEN).',
      });
    }
  }

  function methodNotAllowed(allow: string): MlopsError {
    return new MlopsError('METHOD_NOT_ALLOWED', `use ${allow.split(', ').join(' or ')} here`, { data: { allow } });
  }

  function modelStatus(model: string) {
    const st = pool.status().models[model];
    return st
      ? { model, production: st.serving?.production ?? null, canary: st.serving?.canary ?? null, ready: st.ready, up_to_date: st.upToDate, desired: st.desired, failures: st.failures }
      : null;
  }

  function resolveModel(rawModel: string): string {
    let model: string;
    try {
      model = decodeURIComponent(rawModel);
    } catch {
      throw requestError('ROUTE_NOT_FOUND', 'model name in the path is not valid percent-encoding');
    }
    if (!pool.get(model)) {
      if (!pool.status().loaded) throw new MlopsError('MODEL_NOT_READY', 'the server is still loading its models');
      throw new MlopsError('MODEL_NOT_FOUND', `model "${model}" is not served here`, { hint: `Served models: ${pool.models().join(', ') || 'none'} (GET /v1/models).` });
    }
    return model;
  }

  // The prediction path is kept flat (a body callback, then one async function): each promise
  // layer on a request that takes tens of microseconds shows in the throughput.
  function handlePredict(req: IncomingMessage, res: ServerResponse, rawModel: string): void {
    if (req.method !== 'POST') throw methodNotAllowed('POST');
    const model = resolveModel(rawModel);
    collectBody(req, bodyLimit, (err, body) => {
      if (err) sendError(req, res, err, onInternal);
      else answerPredict(res, model, body!).catch((e) => sendError(req, res, e, onInternal));
    });
  }

  async function answerPredict(res: ServerResponse, model: string, body: Buffer): Promise<void> {
    const { records, batch } = recordsOfBody(parseJson(decodeBody(body)));
    if (records.length === 0) throw requestError('REQUEST_INVALID', 'the batch has no records', { position: { field: '/records' } });
    if (records.length > maxRecords) throw requestError('BODY_TOO_LARGE', `a request may hold at most ${maxRecords} records, this one has ${records.length}`, { status: 413 });
    let stamp: string | undefined;
    const stampNow = () => (stamp ??= now().toISOString());
    const checked = records.map((r, i) => checkPredictRecord(r, i, stampNow));
    // The serving set is read after the body: a swap while the body arrived is already visible.
    const serving = pool.get(model);
    if (!serving) throw new MlopsError('MODEL_NOT_FOUND', `model "${model}" is not served here`);
    if (!batch) {
      const p = await predictOne(serving, checked[0]!, hooks);
      sendJson(res, 200, { model, ...p }, { 'x-model-version': p.version });
      return;
    }
    const predictions = await predictRecords(serving, checked, hooks);
    const versions: string[] = [];
    for (const p of predictions) if (!versions.includes(p.version)) versions.push(p.version);
    sendJson(res, 200, { model, predictions }, { 'x-model-version': versions.join(', ') });
  }

  async function handlePostOutcomes(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requireToken(req);
    const text = decodeBody(await readBody(req, bodyLimit));
    const type = String(req.headers['content-type'] ?? '').toLowerCase();
    let values: unknown[];
    let lines: number[] | null = null;
    const ndjson = /^application\/(x-)?ndjson|^application\/jsonl|^application\/x-jsonlines|^application\/jsonlines/.test(type);
    if (ndjson) ({ values, lines } = parseNdjson(text));
    else {
      let parsed: unknown;
      try {
        parsed = text.trim() === '' ? [] : parseJson(text);
      } catch (e) {
        // Lenient for clients that send NDJSON without saying so (curl --data-binary): a body
        // whose first line is a JSON object and that has more lines is read as NDJSON.
        const nl = text.indexOf('\n');
        if (nl > 0 && text.slice(nl + 1).trim() !== '' && isJsonObject(text.slice(0, nl))) ({ values, lines } = parseNdjson(text));
        else throw e;
        parsed = undefined;
      }
      if (parsed !== undefined) {
        if (Array.isArray(parsed)) values = parsed;
        else if (typeof parsed === 'object' && parsed !== null) values = [parsed];
        else throw requestError('REQUEST_INVALID', 'the body must be an outcome record (JSON object), an array of records, or NDJSON', { position: {} });
      }
    }
    values = values!;
    if (values.length > maxRecords) throw requestError('BODY_TOO_LARGE', `a request may hold at most ${maxRecords} records, this one has ${values.length}`, { status: 413 });
    if (values.length === 0) {
      sendJson(res, 200, { accepted: 0 });
      return;
    }
    try {
      // All or nothing: one bad record rejects the batch and nothing is written, so a client
      // can fix and resend the whole batch (task_id makes resending safe).
      await collector.appendOutcomes(values as never[]);
    } catch (e) {
      const err = e as MlopsError;
      const rejected = (err.data?.rejected ?? (err.data?.reasons ? [{ index: 0, reasons: err.data.reasons }] : null)) as Array<{ index: number; task_id?: string; reasons: string[] }> | null;
      if ((err.code === 'OUTCOME_INVALID' || err.code === 'OUTCOME_LINE_TOO_LONG') && rejected?.length) {
        const first = rejected[0]!;
        const field = /^(\/[^:]*):/.exec(first.reasons[0] ?? '')?.[1];
        const position: Position = { index: first.index, ...(lines ? { line: lines[first.index] } : {}), ...(field ? { field } : {}) };
        throw requestError(err.code, `${rejected.length} of ${values.length} records are invalid; nothing was written. Record ${first.index}${lines ? ` (line ${lines[first.index]})` : ''}: ${first.reasons.join('; ')}`, {
          position,
          hint: 'Fix the listed records and send the batch again (task_id makes resending safe).',
          details: rejected.slice(0, 20).map((r) => ({ index: r.index, ...(lines ? { line: lines[r.index] } : {}), ...(r.task_id ? { task_id: r.task_id } : {}), reasons: r.reasons })),
        });
      }
      throw e;
    }
    countOutcomes(values as Array<Record<string, unknown>>);
    sendJson(res, 200, { accepted: values.length });
  }

  function countOutcomes(records: Array<Record<string, unknown>>): void {
    const served = pool.models();
    for (const r of records) {
      if (!recent.addIfNew(String(r.task_id))) continue;
      const model = typeof r.model === 'string' ? r.model : served.length === 1 ? served[0]! : null;
      const version = r.model_version;
      // Label values come from clients: only served models and well-formed versions become series.
      if (!model || typeof version !== 'string' || !isVersion(version)) continue;
      const s = pool.get(model);
      if (!s) continue;
      const route = s.routing.canary?.version === version ? 'canary' : s.routing.production === version ? 'production' : 'none';
      const result = r.result === true ? 'success' : r.result === false ? 'failure' : String(r.result);
      const rt = typeof r.response_time_ms === 'number' ? r.response_time_ms : null;
      metrics.outcome(model, version, route, result, rt);
    }
  }

  async function handleGetOutcomes(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    requireToken(req);
    const params = new URLSearchParams(query);
    const limitText = params.get('limit');
    let limit = 1000;
    if (limitText !== null) {
      limit = /^\d{1,6}$/.test(limitText) ? Number(limitText) : NaN;
      if (!(limit >= 1 && limit <= 10_000)) throw requestError('REQUEST_INVALID', `limit must be an integer from 1 to 10000, got "${limitText.slice(0, 40)}"`, { position: { field: 'limit' } });
    }
    const page = await readOutcomesPage({ dir, after: params.get('after'), limit });
    const body = page.records.length ? page.records.map(outcomeToJson).join('\n') + '\n' : '';
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-mlops-next-cursor': page.next,
      'x-mlops-done': String(page.done),
      'x-mlops-records': String(page.records.length),
      'x-mlops-skipped': String(page.skipped),
    });
    res.end(body);
  }

  function readiness(query: string): { status: number; body: unknown } {
    const strict = /(^|&)strict=(1|true)(&|$)/.test(query);
    const st = pool.status();
    const models = Object.values(st.models);
    const ready = st.loaded && models.every((m) => m.ready && (!strict || m.upToDate));
    const state = closing
      ? 'shutting_down'
      : !st.loaded
        ? 'loading'
        : !ready
          ? 'not_ready'
          : models.every((m) => m.upToDate)
            ? 'ready'
            : 'degraded';
    return {
      status: ready && !closing ? 200 : 503,
      body: { status: state, ready: ready && !closing, checks: st.checks, models: Object.fromEntries(models.map((m) => [m.model, modelStatus(m.model)])) },
    };
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    if (path.startsWith('/v1/models/')) {
      const rest = path.slice(11);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET');
      let model: string;
      try {
        model = decodeURIComponent(rest);
      } catch {
        model = rest;
      }
      const s = modelStatus(model);
      if (!s) throw new MlopsError('MODEL_NOT_FOUND', `model "${model}" is not served here`);
      sendJson(res, 200, s);
      return;
    }
    switch (path) {
      case '/v1/outcomes':
        if (req.method === 'POST') await handlePostOutcomes(req, res);
        else if (req.method === 'GET') await handleGetOutcomes(req, res, query);
        else throw methodNotAllowed('GET, POST');
        return;
      case '/v1/models':
        if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET');
        sendJson(res, 200, { models: pool.models().map(modelStatus) });
        return;
      case '/metrics': {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET');
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
      case '/healthz':
        sendJson(res, 200, { status: closing ? 'shutting_down' : 'ok' });
        return;
      case '/readyz': {
        const r = readiness(query);
        sendJson(res, r.status, r.body);
        return;
      }
    }
    if (opts.staticRoot && (req.method === 'GET' || req.method === 'HEAD')) {
      if (await serveStatic(opts.staticRoot, path, req, res)) return;
    }
    throw new MlopsError('ROUTE_NOT_FOUND', `no endpoint ${req.method} ${path.slice(0, 200)}`, {
      hint: 'Endpoints: POST /v1/models/<model>/predict, GET|POST /v1/outcomes, GET /v1/models, /metrics, /healthz, /readyz.',
    });
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    inFlight++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    res.on('close', () => {
      metrics.http(endpointOf(path), res.statusCode);
      if (--inFlight === 0 && drained) drained();
    });
    if (path.startsWith('/v1/models/') && (path.endsWith('/predict') || path.endsWith(':predict'))) {
      try {
        handlePredict(req, res, path.slice(11, -8));
      } catch (e) {
        sendError(req, res, e, onInternal);
      }
      return;
    }
    dispatch(req, res, path, query).catch((e) => sendError(req, res, e, onInternal));
  }

  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(opts.requestTimeoutMs ?? 30_000, headersTimeout);
  const server: Server = createServer(
    {
      ServerResponse: Response,
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
      // Timeouts are enforced by a sweep at this interval; it bounds how late a slow client is cut.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
      // Outcome cursors grow with the store's file count and travel in the query string.
      maxHeaderSize: 64 * 1024,
    },
    onRequest,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const code: ErrorCode = status === 408 ? 'REQUEST_TIMEOUT' : 'REQUEST_INVALID';
    const message = status === 408 ? 'the request did not arrive in time' : status === 431 ? 'the request headers are too large' : `malformed request (${err.code ?? 'parse error'})`;
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new MlopsError('SERVE_FAILED', `cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`, { cause: e, hint: e.code === 'EADDRINUSE' ? 'Another process uses the port; pick another with --port.' : undefined })),
    );
    server.listen(opts.port ?? 0, host, () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log({ level: 'info', msg: 'listening', url });
  await pool.start();

  let closePromise: Promise<void> | null = null;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (markClosed = r));
  const close = (): Promise<void> => {
    closePromise ??= (async () => {
      closing = true;
      log({ level: 'info', msg: 'shutting down: draining requests in flight', inFlight });
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((r) => {
          drained = r;
          const t = setTimeout(r, opts.drainTimeoutMs ?? 10_000);
          t.unref();
        });
      }
      server.closeAllConnections();
      await serverClosed;
      await pool.close();
      await collector.close().catch(() => undefined);
      log({ level: 'info', msg: 'stopped' });
      markClosed();
    })();
    return closePromise;
  };

  return {
    url,
    host,
    port,
    close,
    closed,
    reload: () => pool.check('manual'),
    nextReload: () =>
      new Promise((r) => {
        const off = pool.onReport((rep) => {
          off();
          r(rep);
        });
      }),
    waitFor: (predicate, o = {}) =>
      new Promise((resolveWait, reject) => {
        if (predicate(pool.status())) return resolveWait(pool.status());
        const timer = setTimeout(() => {
          off();
          reject(new MlopsError('MODEL_NOT_READY', `serving status did not reach the expected state within ${o.timeoutMs ?? 30_000} ms: ${JSON.stringify(pool.status())}`));
        }, o.timeoutMs ?? 30_000);
        const off = pool.onReport((rep) => {
          if (predicate(rep.status)) {
            clearTimeout(timer);
            off();
            resolveWait(rep.status);
          }
        });
      }),
    onReload: (l) => pool.onReport(l),
    status: () => pool.status(),
    metrics: metrics.registry,
    inFlight: () => inFlight,
  };
}

/** Label of a path in mlops_http_requests_total (a fixed set: paths come from clients). */
function endpointOf(path: string): string {
  if (path.startsWith('/v1/models/')) return path.endsWith('predict') ? 'predict' : 'models';
  switch (path) {
    case '/v1/outcomes':
      return 'outcomes';
    case '/v1/models':
      return 'models';
    case '/metrics':
      return 'metrics';
    case '/healthz':
      return 'healthz';
    case '/readyz':
      return 'readyz';
    default:
      return 'other';
  }
}

function isJsonObject(line: string): boolean {
  try {
    const v = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
