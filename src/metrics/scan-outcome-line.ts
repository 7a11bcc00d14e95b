// A fast path for the canary's read of the outcome store: takes a JSONL line apart at the top
// level, straight from the file's bytes, and folds only the six fields the analysis uses. Decoding
// every line to a string and running JSON.parse and the schema check costs 2-3 µs a line, which
// puts 10 million outcomes far past the 10 s the analysis may take; this walk over the bytes costs
// a fraction of that. A line it does not fully understand (escapes in a field it reads, numbers it
// cannot convert exactly, unusual structure) is decoded and given to JSON.parse, so the counts are
// the same as a full parse would give. It checks the JSON structure and the fields it reads, not
// the rest of the record (the collector validated every field when the line was written).
import {
  type OutcomeAggregator,
  type ResultCode,
  type SeriesKind,
  KIND_CANARY,
  KIND_OTHER,
  KIND_PRODUCTION,
  RESULT_ERROR,
  RESULT_FAILURE,
  RESULT_SUCCESS,
  daysInMonth,
  parseTimestamp,
  utcMs,
} from '../canary/aggregate.js';
import { fingerprintBytes } from '../canary/fingerprint.js';

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

const F_NONE = 0;
const F_TASK = 1;
const F_MODEL = 2;
const F_VERSION = 3;
const F_RESULT = 4;
const F_RT = 5;
const F_TS = 6;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8');

const K_TASK = enc.encode('task_id');
const K_MODEL = enc.encode('model');
const K_VERSION = enc.encode('model_version');
const K_RESULT = enc.encode('result');
const K_RT = enc.encode('response_time_ms');
const K_TS = enc.encode('timestamp');
const V_SUCCESS = enc.encode('success');
const V_FAILURE = enc.encode('failure');
const V_ERROR = enc.encode('error');
const V_TRUE = enc.encode('true');
const V_FALSE = enc.encode('false');
const V_NULL = enc.encode('null');

/** The aggregator's names as UTF-8, encoded once per read. */
export interface LineMatcher {
  agg: OutcomeAggregator;
  model: Uint8Array;
  version: Uint8Array;
  production: Uint8Array | null;
}

export function lineMatcher(agg: OutcomeAggregator): LineMatcher {
  return {
    agg,
    model: enc.encode(agg.model),
    version: enc.encode(agg.version),
    production: typeof agg.production === 'string' ? enc.encode(agg.production) : null,
  };
}

/**
 * Folds the line buf[start, end) (without its LF) into the aggregator. Blank lines are ignored.
 * Returns false when the line is not a valid outcome (the aggregator counts it as invalid).
 */
export function foldOutcomeLine(buf: Uint8Array, start: number, end: number, m: LineMatcher): boolean {
  const r = fastFold(buf, start, end, m);
  if (r !== FALLBACK) return true;
  let value: unknown;
  try {
    value = JSON.parse(dec.decode(buf.subarray(start, end)));
  } catch {
    m.agg.countInvalid();
    return false;
  }
  return m.agg.add(value);
}

const OK = 1;
const FALLBACK = 0;

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function eq(buf: Uint8Array, a: number, b: number, x: Uint8Array): boolean {
  if (b - a !== x.length) return false;
  for (let i = 0; i < x.length; i++) if (buf[a + i] !== x[i]) return false;
  return true;
}

function fieldOf(buf: Uint8Array, a: number, b: number): number {
  switch (b - a) {
    case 7:
      return eq(buf, a, b, K_TASK) ? F_TASK : F_NONE;
    case 5:
      return eq(buf, a, b, K_MODEL) ? F_MODEL : F_NONE;
    case 13:
      return eq(buf, a, b, K_VERSION) ? F_VERSION : F_NONE;
    case 6:
      return eq(buf, a, b, K_RESULT) ? F_RESULT : F_NONE;
    case 16:
      return eq(buf, a, b, K_RT) ? F_RT : F_NONE;
    case 9:
      return eq(buf, a, b, K_TS) ? F_TS : F_NONE;
    default:
      return F_NONE;
  }
}

function fastFold(buf: Uint8Array, start: number, end: number, m: LineMatcher): number {
  let i = start;
  while (i < end && isWs(buf[i]!)) i++;
  if (i === end) return OK; // blank line: writers may leave one between batches
  if (buf[i] !== LBRACE) return FALLBACK;
  i++;
  // Value ranges of the fields we read (strings without their quotes); -1 = absent or null.
  let taskS = -1, taskE = -1, modelS = -1, modelE = -1, verS = -1, verE = -1, resS = -1, resE = -1, rtS = -1, rtE = -1, tsS = -1, tsE = -1;
  let resultLiteral = -1; // 1 true, 0 false when `result` is a boolean
  let c = 0;
  for (;;) {
    while (i < end && isWs(buf[i]!)) i++;
    if (i >= end) return FALLBACK;
    c = buf[i]!;
    if (c === RBRACE) break; // the empty object
    if (c !== QUOTE) return FALLBACK;
    const kS = ++i;
    while (i < end && (c = buf[i]!) !== QUOTE) {
      if (c === BACKSLASH) return FALLBACK; // escaped key: JSON.parse knows what it says
      i++;
    }
    if (i >= end) return FALLBACK;
    const field = fieldOf(buf, kS, i);
    i++;
    while (i < end && isWs(buf[i]!)) i++;
    if (i >= end || buf[i] !== COLON) return FALLBACK;
    i++;
    while (i < end && isWs(buf[i]!)) i++;
    if (i >= end) return FALLBACK;
    c = buf[i]!;
    if (c === QUOTE) {
      const vS = ++i;
      let escaped = false;
      while (i < end && (c = buf[i]!) !== QUOTE) {
        if (c === BACKSLASH) {
          escaped = true;
          i += 2;
        } else i++;
      }
      if (i >= end) return FALLBACK;
      const vE = i++;
      if (field !== F_NONE) {
        if (escaped) return FALLBACK;
        switch (field) {
          case F_TASK: taskS = vS; taskE = vE; break;
          case F_MODEL: modelS = vS; modelE = vE; break;
          case F_VERSION: verS = vS; verE = vE; break;
          case F_RESULT: resS = vS; resE = vE; resultLiteral = -1; break;
          case F_TS: tsS = vS; tsE = vE; break;
          default: return FALLBACK; // a string response time: invalid, the slow path says so
        }
      }
    } else if (c === LBRACE || c === LBRACKET) {
      if (field !== F_NONE) return FALLBACK;
      let depth = 0;
      for (; i < end; i++) {
        c = buf[i]!;
        if (c === QUOTE) {
          for (i++; i < end && (c = buf[i]!) !== QUOTE; i++) if (c === BACKSLASH) i++;
        } else if (c === LBRACE || c === LBRACKET) depth++;
        else if ((c === RBRACE || c === RBRACKET) && --depth === 0) break;
      }
      if (i >= end) return FALLBACK;
      i++;
    } else {
      const vS = i;
      while (i < end && (c = buf[i]!) !== COMMA && c !== RBRACE && !isWs(c)) i++;
      const vE = i;
      if (field !== F_NONE) {
        const isNull = eq(buf, vS, vE, V_NULL);
        switch (field) {
          case F_MODEL: if (!isNull) return FALLBACK; modelS = -1; break;
          case F_VERSION: if (!isNull) return FALLBACK; verS = -1; break;
          case F_RT: if (isNull) rtS = -1; else { rtS = vS; rtE = vE; } break;
          case F_RESULT:
            if (eq(buf, vS, vE, V_TRUE)) resultLiteral = 1;
            else if (eq(buf, vS, vE, V_FALSE)) resultLiteral = 0;
            else return FALLBACK;
            resS = -1;
            break;
          default: return FALLBACK;
        }
      }
    }
    while (i < end && isWs(buf[i]!)) i++;
    if (i >= end) return FALLBACK;
    c = buf[i]!;
    if (c === COMMA) {
      i++;
      continue;
    }
    if (c === RBRACE) break;
    return FALLBACK;
  }
  for (i++; i < end; i++) if (!isWs(buf[i]!)) return FALLBACK;

  // Series first (the rule of OutcomeAggregator.kindOf, on bytes): most lines of a busy store
  // belong to neither side and stop here.
  const agg = m.agg;
  let kind: SeriesKind;
  if (modelS >= 0 && !eq(buf, modelS, modelE, m.model)) kind = KIND_OTHER;
  else if (verS < 0) kind = KIND_OTHER;
  else if (eq(buf, verS, verE, m.version)) kind = KIND_CANARY;
  else if (agg.production === undefined) kind = KIND_PRODUCTION;
  else if (m.production !== null && eq(buf, verS, verE, m.production)) kind = KIND_PRODUCTION;
  else kind = KIND_OTHER;
  if (kind === KIND_OTHER) {
    agg.addObservation(KIND_OTHER, RESULT_SUCCESS, Number.NaN, 0, 0, 0);
    return OK;
  }
  let result: ResultCode;
  if (resS >= 0) {
    if (eq(buf, resS, resE, V_SUCCESS)) result = RESULT_SUCCESS;
    else if (eq(buf, resS, resE, V_FAILURE)) result = RESULT_FAILURE;
    else if (eq(buf, resS, resE, V_ERROR)) result = RESULT_ERROR;
    else return FALLBACK;
  } else if (resultLiteral >= 0) result = resultLiteral === 1 ? RESULT_SUCCESS : RESULT_FAILURE;
  else return FALLBACK;
  if (taskS < 0 || taskE === taskS || tsS < 0) return FALLBACK;
  const ts = timestampOf(buf, tsS, tsE);
  if (Number.isNaN(ts)) return FALLBACK;
  let rt = Number.NaN;
  if (rtS >= 0) {
    const v = numberOf(buf, rtS, rtE);
    if (v === undefined) return FALLBACK;
    if (v >= 0) rt = v;
  }
  const [h1, h2] = fingerprintBytes(buf, taskS, taskE);
  agg.addObservation(kind, result, rt, ts, h1, h2);
  return OK;
}

function digit(buf: Uint8Array, i: number): number {
  const d = buf[i]! - 48;
  return d >= 0 && d <= 9 ? d : -1000;
}

/** The collector's canonical `YYYY-MM-DDTHH:MM:SS.sssZ` by hand; any other form through the parser. */
function timestampOf(buf: Uint8Array, a: number, b: number): number {
  if (b - a === 24 && buf[a + 4] === 45 && buf[a + 7] === 45 && buf[a + 10] === 84 && buf[a + 13] === 58 && buf[a + 16] === 58 && buf[a + 19] === 46 && buf[a + 23] === 90) {
    const y = digit(buf, a) * 1000 + digit(buf, a + 1) * 100 + digit(buf, a + 2) * 10 + digit(buf, a + 3);
    const mo = digit(buf, a + 5) * 10 + digit(buf, a + 6);
    const d = digit(buf, a + 8) * 10 + digit(buf, a + 9);
    const h = digit(buf, a + 11) * 10 + digit(buf, a + 12);
    const mi = digit(buf, a + 14) * 10 + digit(buf, a + 15);
    const sec = digit(buf, a + 17) * 10 + digit(buf, a + 18);
    const ms = digit(buf, a + 20) * 100 + digit(buf, a + 21) * 10 + digit(buf, a + 22);
    if (y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59 && ms >= 0) {
      return utcMs(y, mo, d, h, mi, sec, ms);
    }
    return Number.NaN;
  }
  return parseTimestamp(dec.decode(buf.subarray(a, b)));
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A JSON number, exactly as JSON.parse would read it, or undefined (not a number, or a form the
 * fast path leaves to JSON.parse). Plain decimals with at most 15 significant digits are
 * mantissa / 10^f: both operands are exact doubles, so the one division is correctly rounded,
 * the same double JSON.parse produces.
 */
function numberOf(buf: Uint8Array, a: number, b: number): number | undefined {
  let i = a;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  if (i >= b) return undefined;
  let mant = 0;
  let digits = 0;
  if (buf[i] === 48) {
    i++;
  } else {
    if (digit(buf, i) < 1) return undefined;
    while (i < b && digit(buf, i) >= 0) {
      mant = mant * 10 + digit(buf, i++);
      digits++;
    }
  }
  let frac = 0;
  if (i < b && buf[i] === 46) {
    i++;
    if (i >= b || digit(buf, i) < 0) return undefined;
    while (i < b && digit(buf, i) >= 0) {
      mant = mant * 10 + digit(buf, i++);
      frac++;
      if (mant !== 0) digits++;
    }
  }
  if (i !== b || digits > 15 || frac > 15) return undefined; // exponents, long numbers: JSON.parse
  const v = frac ? mant / POW10[frac]! : mant;
  return neg ? -v : v;
}
