// HTTP plumbing of the server: bounded body reading, JSON and NDJSON parsing that says where a
// body is broken, and the one error shape `{ "error": { code, message, position?, hint? } }`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MlopsError, isMlopsError, type ErrorCode } from '../errors.js';

/** Where in a request body a problem is; every key is optional. */
export interface Position {
  /** Record index in a batch, from 0. */
  index?: number;
  /** Line of an NDJSON body (or of a JSON body with a syntax error), from 1. */
  line?: number;
  /** Column in that line, from 1. */
  column?: number;
  /** Character offset in the body, from 0. */
  offset?: number;
  /** JSON pointer of the field, e.g. `/features/domain_authority`. */
  field?: string;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  JSON_INVALID: 400,
  REQUEST_INVALID: 400,
  INVALID_ARGUMENT: 400,
  OUTCOME_INVALID: 400,
  OUTCOME_LINE_TOO_LONG: 400,
  FEATURE_MISSING: 400,
  ROUTING_KEY_MISSING: 400,
  ENCODING_INVALID: 400,
  UNAUTHORIZED: 401,
  MODEL_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  MODEL_NOT_READY: 503,
  NO_PRODUCTION: 503,
};

export function statusOf(e: MlopsError): number {
  const s = e.data?.status;
  return typeof s === 'number' ? s : STATUS[e.code] ?? 500;
}

export function requestError(code: ErrorCode, message: string, opts: { position?: Position; hint?: string; status?: number; details?: unknown } = {}): MlopsError {
  return new MlopsError(code, message, {
    hint: opts.hint,
    data: { ...(opts.position ? { position: opts.position } : {}), ...(opts.status ? { status: opts.status } : {}), ...(opts.details ? { details: opts.details } : {}) },
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * Answers with the error shape. Known errors keep their code and message; anything else is a
 * bug: the client gets INTERNAL without details, the log gets the stack.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, e: unknown, onInternal: (e: unknown) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let err: MlopsError;
  if (isMlopsError(e)) err = e;
  else {
    onInternal(e);
    err = new MlopsError('INTERNAL', 'internal error; the server log has the details');
  }
  const status = statusOf(err);
  if (status >= 500 && isMlopsError(e) && !(err.code in STATUS)) onInternal(e);
  const headers: Record<string, string> = {};
  if (typeof err.data?.allow === 'string') headers.allow = err.data.allow;
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="mlops"';
  if (status === 503) headers['retry-after'] = '1';
  if (!req.complete) {
    // The body was not read (413, 401 before reading): drop the connection after answering
    // instead of parsing whatever the client still sends.
    headers.connection = 'close';
    req.resume();
  }
  const position = err.data?.position as Position | undefined;
  const details = err.data?.details;
  sendJson(
    res,
    status,
    { error: { code: err.code, message: err.message, ...(position ? { position } : {}), ...(err.hint ? { hint: err.hint } : {}), ...(details ? { details } : {}) } },
    headers,
  );
}

/**
 * Reads the whole body, refusing more than `limit` bytes (413) before buffering them, and calls
 * back once: a callback, not a promise, because this is on every prediction's path.
 */
export function collectBody(req: IncomingMessage, limit: number, done: (err: MlopsError | null, body?: Buffer) => void): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return done(tooLarge(limit));
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: MlopsError | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    done(err, body);
  };
  // Listeners stay until the request goes away: removing them costs more than the flag.
  req.on('data', (c: Buffer) => {
    if (finished) return;
    size += c.length;
    if (size > limit) finish(tooLarge(limit));
    else chunks.push(c);
  });
  req.on('end', () => finish(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
  // A client that goes away mid-body shows up here too (ECONNRESET "aborted").
  req.on('error', (e: Error) => finish(requestError('REQUEST_INVALID', `reading the request body failed: ${e.message}`)));
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => collectBody(req, limit, (err, body) => (err ? reject(err) : resolve(body!))));
}

function tooLarge(limit: number): MlopsError {
  return requestError('BODY_TOO_LARGE', `request body is larger than ${limit} bytes`, {
    hint: 'Send smaller batches (several requests), or start the server with a larger body limit.',
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeBody(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw requestError('JSON_INVALID', 'request body is not valid UTF-8', { hint: 'Send JSON encoded as UTF-8.' });
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** Parses JSON; a syntax error is JSON_INVALID with the offset, line and column of the fault. */
export function parseJson(text: string, base: Position = {}): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const offset = jsonErrorOffset(text);
    const lc = lineColumn(text, offset);
    const position: Position = base.line !== undefined
      ? { ...base, column: offset + 1, offset }
      : { ...base, offset, line: lc.line, column: lc.column };
    const why = String((e as Error).message).replace(/,? ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    const where = base.line !== undefined ? `line ${base.line}, column ${offset + 1}` : `line ${lc.line}, column ${lc.column}`;
    throw requestError('JSON_INVALID', `request body is not valid JSON at ${where}: ${why}`, { position, hint: 'Send one JSON value (or NDJSON: one JSON object per line).' });
  }
}

/** One JSON value per non-empty line; errors name the line. Returns values with their line numbers. */
export function parseNdjson(text: string): { values: unknown[]; lines: number[] } {
  const values: unknown[] = [];
  const lines: number[] = [];
  let start = 0;
  let line = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let s = text.slice(start, end);
    if (s.endsWith('\r')) s = s.slice(0, -1);
    if (s.trim() !== '') {
      values.push(parseJson(s, { index: values.length, line }));
      lines.push(line);
    }
    start = end + 1;
    line++;
  }
  return { values, lines };
}

/**
 * Offset of the first syntax error of a text that JSON.parse rejected. V8 names the position
 * for some errors only ("Unexpected token 'x', ... is not valid JSON" has none), so the text is
 * scanned with a small grammar checker; it runs only on bodies that already failed.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  class Fault {
    constructor(readonly at: number) {}
  }
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw new Fault(i);
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) if (text[i + k] !== word[k]) ((i += k), fail());
    i += word.length;
  };
  const str = () => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) fail();
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) ((i += 2), fail());
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else ((i += 1), fail());
      } else i++;
    }
    fail();
  };
  const digit = () => i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57;
  const digits = () => {
    if (!digit()) fail();
    while (digit()) i++;
  };
  const num = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (depth: number): void => {
    if (depth > 2000) fail(); // deeper than any real body; keeps the scan off the stack limit
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail();
      }
    } else if (c === '"') str();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) num();
    else fail();
  };
  try {
    value(0);
    ws();
    if (i < n) fail();
    return n; // should not happen: the text parses
  } catch (e) {
    if (e instanceof Fault) return Math.min(e.at, n);
    return 0;
  }
}
