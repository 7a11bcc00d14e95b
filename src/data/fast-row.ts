// A fast path from a JSONL store line straight to its canonical CSV shard row, byte to byte.
//
// Why: JSON.parse, the schema check and building the row from field strings cost about 10 µs a
// line and most of a collect's garbage (a record object and a dozen strings per line). The
// collector writes one line shape (outcomeToJson: known keys, plain strings, shortest numbers),
// so a walk over the bytes can check that shape and copy the fields into the row directly.
//
// Contract: encodeOutcomeRow() either writes exactly outcomeToRow(normalizeOutcome(JSON.parse(line)))
// or returns -1 and the caller takes the full path (parseStoreLine + outcomeToRow), which also
// produces every warning. It returns -1 for anything it does not fully understand: escapes, keys
// out of the schema, duplicate keys, nested values, non-ASCII domains (toLowerCase is Unicode),
// negative top-level numbers, timestamps that are not `...:SSZ` / `...:SS.sssZ`, and every
// invalid record. It never decides that a line is invalid. Pure: no fs, no clock.
//
// Precondition: the line is valid UTF-8 (the store reader checks it) and holds no LF.

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;

// Per-byte classes of string contents (one table lookup per byte in the hot loop).
const C_STOP = 1; // quote, backslash, control character, DEL: the string ends or needs the full path
const C_HIGH = 2; // a byte of a multi-byte UTF-8 sequence
const C_COMMA = 4; // CSV quoting needed
const C_SPACE_SLASH = 8; // not allowed in a domain
const C_UPPER = 16; // A-Z (domains are lower-cased)
const CLASS = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let c = 0;
  if (b === QUOTE || b === BACKSLASH || b < 0x20 || b === 0x7f) c |= C_STOP;
  if (b >= 0x80) c |= C_HIGH;
  if (b === COMMA) c |= C_COMMA;
  if (b === 0x20 || b === 0x2f) c |= C_SPACE_SLASH;
  if (b >= 0x41 && b <= 0x5a) c |= C_UPPER;
  CLASS[b] = c;
}

// Bytes of a feature key: [A-Za-z_] first, then [A-Za-z0-9_.-] (the schema's propertyNames).
const KEY_FIRST = new Uint8Array(256);
const KEY_REST = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const alpha = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f;
  KEY_FIRST[b] = alpha ? 1 : 0;
  KEY_REST[b] = alpha || (b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x2d ? 1 : 0;
}

// Fields of the record, indexed in OUTCOME_FIELDS order.
const F_TASK = 0;
const F_DOMAIN = 1;
const F_URL = 2;
const F_ACTION = 3;
const F_RESULT = 4;
const F_REASON = 5;
const F_EXEC = 6;
const F_MODEL = 7;
const F_VERSION = 8;
const F_RT = 9;
const F_TS = 10;
const F_FEATURES = 11;
const FIELDS = 12;

const K_ABSENT = 0;
const K_STRING = 1;
const K_NULL = 2;
const K_NUMBER = 3;
const K_TRUE = 4;
const K_FALSE = 5;
const K_OBJECT = 6;

const enc = new TextEncoder();
const KEYS = ['task_id', 'domain', 'url', 'action_attempted', 'result', 'failure_reason', 'execution_time', 'model', 'model_version', 'response_time_ms', 'timestamp', 'features'].map((k) => enc.encode(k));
const SUCCESS = enc.encode('success');
const FAILURE = enc.encode('failure');
const ERROR = enc.encode('error');
const TRUE = enc.encode('true');
const FALSE = enc.encode('false');
const NULL = enc.encode('null');

// Scratch state of the line being encoded (module-level: no allocation per line).
const kind = new Uint8Array(FIELDS);
const vStart = new Int32Array(FIELDS);
const vEnd = new Int32Array(FIELDS);
const vMask = new Uint8Array(FIELDS); // string: OR of byte classes; number: 1 when canonical
const MAX_FEATURES = 64;
const fKeyStart = new Int32Array(MAX_FEATURES);
const fKeyEnd = new Int32Array(MAX_FEATURES);
const fKind = new Uint8Array(MAX_FEATURES);
const fStart = new Int32Array(MAX_FEATURES);
const fEnd = new Int32Array(MAX_FEATURES);
const fCanon = new Uint8Array(MAX_FEATURES);
const fOrder = new Int32Array(MAX_FEATURES);
let nFeatures = 0;

// Results of the scanners (module-level to return several values without an object).
let strMask = 0;
let numCanonical = false;
let numNegative = false;

/** Timestamp (ms since the epoch) of the row last written by encodeOutcomeRow. */
export let lastT = 0;
/** Byte range of the last row's task_id in the source line, and whether it is ASCII. */
export let lastIdStart = 0;
export let lastIdEnd = 0;
export let lastIdAscii = true;

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

function skipWs(src: Uint8Array, i: number, end: number): number {
  while (i < end && isWs(src[i]!)) i++;
  return i;
}

/** Index of the closing quote of a string whose contents start at i, or -1 (escape, control byte, unterminated). */
function scanString(src: Uint8Array, i: number, end: number): number {
  let mask = 0;
  while (i < end) {
    const c = CLASS[src[i]!]!;
    if (c & C_STOP) {
      if (src[i] !== QUOTE) return -1;
      strMask = mask;
      return i;
    }
    mask |= c;
    i++;
  }
  return -1;
}

/**
 * End of a JSON number starting at i, or -1 when malformed. Sets numCanonical when the text is
 * exactly what Number#toString gives for its value (so it can be copied), numNegative for '-'.
 */
function scanNumber(src: Uint8Array, i: number, end: number): number {
  let neg = false;
  if (src[i] === 0x2d) {
    neg = true;
    i++;
  }
  if (i >= end) return -1;
  const intStart = i;
  let b = src[i]!;
  if (b === 0x30) i++;
  else if (b >= 0x31 && b <= 0x39) {
    i++;
    while (i < end && (b = src[i]!) >= 0x30 && b <= 0x39) i++;
  } else return -1;
  const intDigits = i - intStart;
  const zeroInt = intDigits === 1 && src[intStart] === 0x30;
  let fracDigits = 0;
  let fracLeadingZeros = 0;
  let lastFrac = 0;
  if (i < end && src[i] === 0x2e) {
    i++;
    const fs = i;
    while (i < end && (b = src[i]!) >= 0x30 && b <= 0x39) i++;
    fracDigits = i - fs;
    if (fracDigits === 0) return -1;
    while (fracLeadingZeros < fracDigits && src[fs + fracLeadingZeros] === 0x30) fracLeadingZeros++;
    lastFrac = src[i - 1]!;
  }
  let exp = false;
  if (i < end && (src[i] === 0x65 || src[i] === 0x45)) {
    exp = true;
    i++;
    if (i < end && (src[i] === 0x2b || src[i] === 0x2d)) i++;
    const es = i;
    while (i < end && (b = src[i]!) >= 0x30 && b <= 0x39) i++;
    if (i === es) return -1;
  }
  numNegative = neg;
  // Canonical (what String(Number(text)) gives back): no exponent, no trailing fraction zero,
  // at most 15 significant digits (any such decimal round-trips through a double, so the
  // shortest form has the same digits), not below 1e-6 (shown with an exponent), not zero when
  // negative ("-0" prints as "0").
  if (exp || (fracDigits > 0 && lastFrac === 0x30)) numCanonical = false;
  else if (zeroInt) numCanonical = fracDigits === 0 ? !neg : fracLeadingZeros <= 5 && fracDigits - fracLeadingZeros <= 15;
  else numCanonical = intDigits + fracDigits <= 15;
  return i;
}

function literalAt(src: Uint8Array, i: number, end: number, lit: Uint8Array): boolean {
  if (end - i < lit.length) return false;
  for (let k = 0; k < lit.length; k++) if (src[i + k] !== lit[k]) return false;
  return true;
}

function sameBytes(src: Uint8Array, s: number, e: number, x: Uint8Array): boolean {
  if (e - s !== x.length) return false;
  for (let k = 0; k < x.length; k++) if (src[s + k] !== x[k]) return false;
  return true;
}

function fieldOf(src: Uint8Array, s: number, e: number): number {
  switch (e - s) {
    case 7:
      return sameBytes(src, s, e, KEYS[F_TASK]!) ? F_TASK : -1;
    case 6:
      return sameBytes(src, s, e, KEYS[F_DOMAIN]!) ? F_DOMAIN : sameBytes(src, s, e, KEYS[F_RESULT]!) ? F_RESULT : -1;
    case 3:
      return sameBytes(src, s, e, KEYS[F_URL]!) ? F_URL : -1;
    case 16:
      return sameBytes(src, s, e, KEYS[F_ACTION]!) ? F_ACTION : sameBytes(src, s, e, KEYS[F_RT]!) ? F_RT : -1;
    case 14:
      return sameBytes(src, s, e, KEYS[F_REASON]!) ? F_REASON : sameBytes(src, s, e, KEYS[F_EXEC]!) ? F_EXEC : -1;
    case 5:
      return sameBytes(src, s, e, KEYS[F_MODEL]!) ? F_MODEL : -1;
    case 13:
      return sameBytes(src, s, e, KEYS[F_VERSION]!) ? F_VERSION : -1;
    case 9:
      return sameBytes(src, s, e, KEYS[F_TS]!) ? F_TS : -1;
    case 8:
      return sameBytes(src, s, e, KEYS[F_FEATURES]!) ? F_FEATURES : -1;
    default:
      return -1;
  }
}

/** Code points of valid UTF-8 bytes (what the schema's maxLength counts). */
function codePoints(src: Uint8Array, s: number, e: number, mask: number): number {
  if (!(mask & C_HIGH)) return e - s;
  let n = 0;
  for (let i = s; i < e; i++) if ((src[i]! & 0xc0) !== 0x80) n++;
  return n;
}

/** Parses the features object at i ('{'); returns the index after '}', or -1. */
function scanFeatures(src: Uint8Array, i: number, end: number): number {
  nFeatures = 0;
  i = skipWs(src, i + 1, end);
  if (i < end && src[i] === RBRACE) return i + 1;
  for (;;) {
    if (i >= end || src[i] !== QUOTE) return -1;
    const ks = i + 1;
    // Key: the schema's propertyNames pattern, ASCII only; "__proto__" would set the prototype
    // of the record's features object instead of adding a key, so it takes the full path.
    if (ks >= end || !KEY_FIRST[src[ks]!]) return -1;
    let k = ks + 1;
    while (k < end && KEY_REST[src[k]!]) k++;
    if (k >= end || src[k] !== QUOTE || k - ks > 64) return -1;
    if (k - ks === 9 && src[ks] === 0x5f && src[ks + 1] === 0x5f && src[ks + 2] === 0x70 && src[ks + 7] === 0x5f && src[ks + 8] === 0x5f && src[ks + 3] === 0x72 && src[ks + 4] === 0x6f && src[ks + 5] === 0x74 && src[ks + 6] === 0x6f) return -1;
    if (nFeatures === MAX_FEATURES) return -1; // maxProperties
    const n = nFeatures++;
    fKeyStart[n] = ks;
    fKeyEnd[n] = k;
    i = skipWs(src, k + 1, end);
    if (i >= end || src[i] !== COLON) return -1;
    i = skipWs(src, i + 1, end);
    if (i >= end) return -1;
    const b = src[i]!;
    if (b === QUOTE) {
      const q = scanString(src, i + 1, end);
      if (q < 0 || codePoints(src, i + 1, q, strMask) > 1024) return -1;
      fKind[n] = K_STRING;
      fStart[n] = i + 1;
      fEnd[n] = q;
      i = q + 1;
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      const e = scanNumber(src, i, end);
      if (e < 0) return -1;
      fKind[n] = K_NUMBER;
      fStart[n] = i;
      fEnd[n] = e;
      fCanon[n] = numCanonical ? 1 : 0;
      i = e;
    } else if (literalAt(src, i, end, TRUE)) {
      fKind[n] = K_TRUE;
      i += 4;
    } else if (literalAt(src, i, end, FALSE)) {
      fKind[n] = K_FALSE;
      i += 5;
    } else if (literalAt(src, i, end, NULL)) {
      fKind[n] = K_NULL;
      i += 4;
    } else return -1; // nested object or array: not a feature value
    i = skipWs(src, i, end);
    if (i >= end) return -1;
    if (src[i] === COMMA) {
      i = skipWs(src, i + 1, end);
      continue;
    }
    if (src[i] === RBRACE) return i + 1;
    return -1;
  }
}

/** Byte order of two feature keys (ASCII: the order of JavaScript's default sort). */
function compareKeys(src: Uint8Array, a: number, b: number): number {
  const as = fKeyStart[a]!;
  const ae = fKeyEnd[a]!;
  const bs = fKeyStart[b]!;
  const be = fKeyEnd[b]!;
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const d = src[as + k]! - src[bs + k]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(src: Uint8Array, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) {
    const d = src[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Checks a timestamp string `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` (the fast path of
 * normalizeTimestamp, same calendar rules) and sets lastT. False for any other form.
 */
function checkTimestamp(src: Uint8Array, s: number, e: number): boolean {
  const len = e - s;
  if ((len !== 24 && len !== 20) || src[e - 1] !== 0x5a) return false;
  if (src[s + 4] !== 0x2d || src[s + 7] !== 0x2d || src[s + 10] !== 0x54 || src[s + 13] !== COLON || src[s + 16] !== COLON) return false;
  const year = digits(src, s, 4);
  const month = digits(src, s + 5, 2);
  const day = digits(src, s + 8, 2);
  const h = digits(src, s + 11, 2);
  const mi = digits(src, s + 14, 2);
  const sec = digits(src, s + 17, 2);
  let ms = 0;
  if (len === 24) {
    if (src[s + 19] !== 0x2e) return false;
    ms = digits(src, s + 20, 3);
    if (ms < 0) return false;
  }
  if (year <= 0 || month < 1 || month > 12 || day < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 && leap ? 29 : DAYS[month - 1]!)) return false;
  // Date.UTC reads years 0..99 as 1900..1999; those rare years go through Date.parse as in timestampMs.
  lastT = year < 100 ? Number.NaN : Date.UTC(year, month - 1, day, h, mi, sec, ms);
  return true;
}

/** Writes a string field's bytes with the canonical CSV text rule of encodeTextField. */
function writeText(src: Uint8Array, s: number, e: number, mask: number, out: Uint8Array, at: number, lower: boolean): number {
  if (s === e) {
    out[at] = QUOTE;
    out[at + 1] = QUOTE;
    return at + 2;
  }
  const quote = (mask & C_COMMA) !== 0;
  const f = src[s]!;
  if (quote) out[at++] = QUOTE;
  // Formula triggers (= + - @ '; tab and CR cannot occur unescaped) get one ' in front.
  if (f === 0x3d || f === 0x2b || f === 0x2d || f === 0x40 || f === 0x27) out[at++] = 0x27;
  if (lower && mask & C_UPPER) {
    for (let i = s; i < e; i++) {
      const b = src[i]!;
      out[at++] = b >= 0x41 && b <= 0x5a ? b + 32 : b;
    }
  } else {
    for (let i = s; i < e; i++) out[at++] = src[i]!;
  }
  if (quote) out[at++] = QUOTE;
  return at;
}

function writeAscii(text: string, out: Uint8Array, at: number): number {
  for (let k = 0; k < text.length; k++) out[at++] = text.charCodeAt(k);
  return at;
}

const latin1 = new TextDecoder('latin1');

/** A JSON number as Number#toString prints it (the number's text is ASCII). */
function numberText(src: Uint8Array, s: number, e: number): string | null {
  const v = Number(latin1.decode(src.subarray(s, e)));
  if (!Number.isFinite(v)) return null;
  return String(v); // String(-0) is "0", as normalizeNumber and JSON.stringify give
}

/** A nullable non-negative number field (execution_time, response_time_ms); -1 when not fast. */
function writeNumberField(src: Uint8Array, f: number, out: Uint8Array, at: number): number {
  const k = kind[f]!;
  if (k === K_ABSENT || k === K_NULL) return at;
  if (k !== K_NUMBER) return -1;
  const s = vStart[f]!;
  const e = vEnd[f]!;
  if (src[s] === 0x2d) return -1; // negative (or -0): the full path has the wording
  if (vMask[f]) {
    for (let i = s; i < e; i++) out[at++] = src[i]!;
    return at;
  }
  const t = numberText(src, s, e);
  return t === null ? -1 : writeAscii(t, out, at);
}

/** A nullable text field with the schema's limits; -1 when not fast. */
function writeNullableText(src: Uint8Array, f: number, minLen: number, maxLen: number, out: Uint8Array, at: number): number {
  const k = kind[f]!;
  if (k === K_ABSENT || k === K_NULL) return at;
  if (k !== K_STRING) return -1;
  const cps = codePoints(src, vStart[f]!, vEnd[f]!, vMask[f]!);
  if (cps < minLen || cps > maxLen) return -1;
  return writeText(src, vStart[f]!, vEnd[f]!, vMask[f]!, out, at, false);
}

function writeFeatures(src: Uint8Array, out: Uint8Array, at: number): number {
  const n = nFeatures;
  if (n === 0) {
    out[at] = LBRACE;
    out[at + 1] = RBRACE;
    return at + 2;
  }
  // Keys in sorted order (insertion sort: at most 64, almost always sorted already); a
  // duplicate key takes the full path (JSON.parse keeps the last value at the first position).
  for (let k = 0; k < n; k++) {
    let j = k;
    while (j > 0) {
      const c = compareKeys(src, fOrder[j - 1]!, k);
      if (c === 0) return -1;
      if (c < 0) break;
      fOrder[j] = fOrder[j - 1]!;
      j--;
    }
    fOrder[j] = k;
  }
  // The JSON text of the sorted object, every quote doubled and the whole field quoted.
  out[at++] = QUOTE;
  out[at++] = LBRACE;
  for (let j = 0; j < n; j++) {
    const k = fOrder[j]!;
    if (j > 0) out[at++] = COMMA;
    out[at++] = QUOTE;
    out[at++] = QUOTE;
    for (let i = fKeyStart[k]!; i < fKeyEnd[k]!; i++) out[at++] = src[i]!;
    out[at++] = QUOTE;
    out[at++] = QUOTE;
    out[at++] = COLON;
    const kk = fKind[k]!;
    if (kk === K_STRING) {
      out[at++] = QUOTE;
      out[at++] = QUOTE;
      for (let i = fStart[k]!; i < fEnd[k]!; i++) out[at++] = src[i]!;
      out[at++] = QUOTE;
      out[at++] = QUOTE;
    } else if (kk === K_NUMBER) {
      if (fCanon[k]) for (let i = fStart[k]!; i < fEnd[k]!; i++) out[at++] = src[i]!;
      else {
        const t = numberText(src, fStart[k]!, fEnd[k]!);
        if (t === null) return -1; // not finite: invalid, the full path says why
        at = writeAscii(t, out, at);
      }
    } else at = writeAscii(kk === K_TRUE ? 'true' : kk === K_FALSE ? 'false' : 'null', out, at);
  }
  out[at++] = RBRACE;
  out[at++] = QUOTE;
  return at;
}

/**
 * Upper bound of the row bytes for a line of `lineBytes` bytes (room to leave in `out`). Text
 * grows by at most 3 bytes a field and the features' quotes double; the worst case is a feature
 * number such as `"a":1e20` (8 bytes with its comma) printed as `""a"":100000000000000000000,`
 * (28): under 4x, and Number#toString never prints more than 25 characters.
 */
export function maxRowBytes(lineBytes: number): number {
  return 4 * lineBytes + 64;
}

/**
 * Encodes the JSONL line src[start, end) as its canonical CSV row (with LF) into out at `at`.
 * Returns the end of the row in out, or -1 when the line must take the full path. `out` must
 * have maxRowBytes(end - start) bytes free at `at`. On success lastT, lastIdStart, lastIdEnd
 * and lastIdAscii describe the row (lastT is NaN for years before 100: use timestampMs).
 */
export function encodeOutcomeRow(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const r = encodeCollectorLine(src, start, end, out, at);
  return r >= 0 ? r : encodeAnyOrder(src, start, end, out, at);
}

// ---- tier 1: the collector's own line shape, in one pass ----

// The line as outcomeToJson writes it: every key, in OUTCOME_FIELDS order, no whitespace.
const L_TASK = enc.encode('{"task_id":"');
const L_DOMAIN = enc.encode(',"domain":"');
const L_URL = enc.encode(',"url":');
const L_ACTION = enc.encode(',"action_attempted":"');
const L_RESULT = enc.encode(',"result":"');
const L_REASON = enc.encode(',"failure_reason":');
const L_EXEC = enc.encode(',"execution_time":');
const L_MODEL = enc.encode(',"model":');
const L_VERSION = enc.encode(',"model_version":');
const L_RT = enc.encode(',"response_time_ms":');
const L_TS = enc.encode(',"timestamp":"');
const L_FEATURES = enc.encode(',"features":{');

/** Index after the literal x at i, or -1. */
function lit(src: Uint8Array, i: number, end: number, x: Uint8Array): number {
  const n = x.length;
  if (i < 0 || end - i < n) return -1;
  for (let k = 0; k < n; k++) if (src[i + k] !== x[k]) return -1;
  return i + n;
}

// Results of copyString.
let cEnd = 0; // index of the closing quote in src
let cMask = 0; // OR of the byte classes

/**
 * Copies the string whose contents start at src[i] into out at `at` as a CSV text field (the
 * rule of encodeTextField), scanning and copying in one pass. Returns the end in out, or -1
 * (escape, control byte, unterminated). cEnd and cMask describe the string.
 */
function copyString(src: Uint8Array, i: number, end: number, out: Uint8Array, at: number): number {
  const s = i;
  let o = at;
  const f = src[i]!;
  // Formula triggers (= + - @ '; tab and CR cannot occur unescaped) get one ' in front.
  if (f === 0x3d || f === 0x2b || f === 0x2d || f === 0x40 || f === 0x27) out[o++] = 0x27;
  let mask = 0;
  for (;;) {
    if (i >= end) return -1;
    const b = src[i]!;
    const c = CLASS[b]!;
    if (c & C_STOP) break;
    mask |= c;
    out[o++] = b;
    i++;
  }
  if (src[i] !== QUOTE) return -1;
  cEnd = i;
  cMask = mask;
  if (i === s) {
    out[at] = QUOTE;
    out[at + 1] = QUOTE;
    return at + 2;
  }
  if (mask & C_COMMA) {
    // Quoted (no quote inside can need doubling: it would have been escaped).
    out.copyWithin(at + 1, at, o);
    out[at] = QUOTE;
    out[o + 1] = QUOTE;
    return o + 2;
  }
  return o;
}

/** A nullable token or text (value at src[i]: null or a string) copied as a CSV field; -1 when not fast. */
function copyNullable(src: Uint8Array, i: number, end: number, out: Uint8Array, at: number, minLen: number, maxLen: number): number {
  if (src[i] === QUOTE) {
    const o = copyString(src, i + 1, end, out, at);
    if (o < 0) return -1;
    const cps = codePoints(src, i + 1, cEnd, cMask);
    if (cps < minLen || cps > maxLen) return -1;
    cEnd++;
    return o;
  }
  if (lit(src, i, end, NULL) < 0) return -1;
  cEnd = i + 4;
  return at;
}

/** Index after a null or a string at src[i] (checked again when copied), or -1. */
function skipNullable(src: Uint8Array, i: number, end: number): number {
  if (src[i] === QUOTE) {
    const q = scanString(src, i + 1, end);
    return q < 0 ? -1 : q + 1;
  }
  return lit(src, i, end, NULL);
}

/** A nullable non-negative number (value at src[i]) copied as a CSV field; -1 when not fast. */
function copyNumber(src: Uint8Array, i: number, end: number, out: Uint8Array, at: number): number {
  if (src[i] === 0x6e /* n */) {
    if (lit(src, i, end, NULL) < 0) return -1;
    cEnd = i + 4;
    return at;
  }
  const e = scanNumber(src, i, end);
  if (e < 0 || numNegative) return -1;
  cEnd = e;
  if (numCanonical) {
    for (let k = i; k < e; k++) out[at++] = src[k]!;
    return at;
  }
  const t = numberText(src, i, e);
  return t === null ? -1 : writeAscii(t, out, at);
}

/**
 * The features object at src[i] (just after its '{') as its CSV field, in one pass: keys must
 * come sorted and unique (as the collector writes them), else -1 and the general path sorts.
 * Returns the end in out; cEnd is the index after the closing '}'.
 */
function copyFeatures(src: Uint8Array, i: number, end: number, out: Uint8Array, at: number): number {
  if (src[i] === RBRACE) {
    out[at] = LBRACE;
    out[at + 1] = RBRACE;
    cEnd = i + 1;
    return at + 2;
  }
  out[at++] = QUOTE;
  out[at++] = LBRACE;
  let prevS = -1;
  let prevE = -1;
  let count = 0;
  for (;;) {
    if (i >= end || src[i] !== QUOTE) return -1;
    const ks = i + 1;
    if (ks >= end || !KEY_FIRST[src[ks]!]) return -1;
    let k = ks + 1;
    while (k < end && KEY_REST[src[k]!]) k++;
    if (k >= end || src[k] !== QUOTE || k - ks > 64 || ++count > MAX_FEATURES) return -1;
    if (prevS >= 0) {
      // Strictly after the previous key (byte order is the default sort's order for ASCII).
      const n = Math.min(k - ks, prevE - prevS);
      let d = 0;
      for (let j = 0; j < n && d === 0; j++) d = src[ks + j]! - src[prevS + j]!;
      if (d < 0 || (d === 0 && k - ks <= prevE - prevS)) return -1;
    }
    if (k - ks === 9 && src[ks] === 0x5f && src[ks + 1] === 0x5f && src[ks + 2] === 0x70 && src[ks + 3] === 0x72 && src[ks + 4] === 0x6f && src[ks + 5] === 0x74 && src[ks + 6] === 0x6f && src[ks + 7] === 0x5f && src[ks + 8] === 0x5f) return -1;
    prevS = ks;
    prevE = k;
    out[at++] = QUOTE;
    out[at++] = QUOTE;
    for (let j = ks; j < k; j++) out[at++] = src[j]!;
    out[at++] = QUOTE;
    out[at++] = QUOTE;
    if (src[k + 1] !== COLON) return -1;
    out[at++] = COLON;
    i = k + 2;
    if (i >= end) return -1;
    const b = src[i]!;
    if (b === QUOTE) {
      out[at++] = QUOTE;
      out[at++] = QUOTE;
      let j = i + 1;
      let mask = 0;
      for (;;) {
        if (j >= end) return -1;
        const v = src[j]!;
        const c = CLASS[v]!;
        if (c & C_STOP) break;
        mask |= c;
        out[at++] = v;
        j++;
      }
      if (src[j] !== QUOTE || (mask & C_HIGH ? codePoints(src, i + 1, j, mask) : j - i - 1) > 1024) return -1;
      out[at++] = QUOTE;
      out[at++] = QUOTE;
      i = j + 1;
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      const e = scanNumber(src, i, end);
      if (e < 0) return -1;
      if (numCanonical) for (let j = i; j < e; j++) out[at++] = src[j]!;
      else {
        const t = numberText(src, i, e);
        if (t === null) return -1;
        at = writeAscii(t, out, at);
      }
      i = e;
    } else if (b === 0x74 /* t */ && lit(src, i, end, TRUE) >= 0) {
      at = writeAscii('true', out, at);
      i += 4;
    } else if (b === 0x66 /* f */ && lit(src, i, end, FALSE) >= 0) {
      at = writeAscii('false', out, at);
      i += 5;
    } else if (b === 0x6e /* n */ && lit(src, i, end, NULL) >= 0) {
      at = writeAscii('null', out, at);
      i += 4;
    } else return -1;
    if (i >= end) return -1;
    if (src[i] === COMMA) {
      out[at++] = COMMA;
      i++;
      continue;
    }
    if (src[i] !== RBRACE) return -1;
    out[at++] = RBRACE;
    out[at++] = QUOTE;
    cEnd = i + 1;
    return at;
  }
}

function encodeCollectorLine(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  // The timestamp comes first in the row but last in the line: its 24 bytes are filled in at the end.
  const tsAt = at;
  at += 25;
  let i = lit(src, start, end, L_TASK);
  if (i < 0) return -1;
  const idS = i;
  at = copyString(src, i, end, out, at);
  if (at < 0) return -1;
  const idE = cEnd;
  const idMask = cMask;
  const idLen = codePoints(src, idS, idE, idMask);
  if (idLen < 1 || idLen > 256) return -1;
  out[at++] = COMMA;

  i = lit(src, idE + 1, end, L_DOMAIN);
  if (i < 0) return -1;
  // Domain: ASCII without spaces or '/', lower-cased.
  const dS = i;
  const dAt = at;
  const f = src[i]!;
  if (f === 0x3d || f === 0x2b || f === 0x2d || f === 0x40 || f === 0x27) out[at++] = 0x27;
  let mask = 0;
  for (;;) {
    if (i >= end) return -1;
    const b = src[i]!;
    const c = CLASS[b]!;
    if (c & C_STOP) break;
    mask |= c;
    out[at++] = c & C_UPPER ? b + 32 : b;
    i++;
  }
  if (src[i] !== QUOTE || i === dS || i - dS > 253 || mask & (C_HIGH | C_SPACE_SLASH)) return -1;
  if (mask & C_COMMA) {
    out.copyWithin(dAt + 1, dAt, at);
    out[dAt] = QUOTE;
    out[at + 1] = QUOTE;
    at += 2;
  }
  out[at++] = COMMA;

  i = lit(src, i + 1, end, L_URL);
  if (i < 0) return -1;
  at = copyNullable(src, i, end, out, at, 0, 8192);
  if (at < 0) return -1;
  out[at++] = COMMA;

  i = lit(src, cEnd, end, L_ACTION);
  if (i < 0) return -1;
  const aS = i;
  at = copyString(src, i, end, out, at);
  if (at < 0) return -1;
  const aLen = codePoints(src, aS, cEnd, cMask);
  if (aLen < 1 || aLen > 256) return -1;
  out[at++] = COMMA;

  i = lit(src, cEnd + 1, end, L_RESULT);
  if (i < 0) return -1;
  // success | failure | error
  const r0 = src[i];
  let rLen = 0;
  if (r0 === 0x73 && lit(src, i, end, SUCCESS) >= 0) rLen = 7;
  else if (r0 === 0x66 && lit(src, i, end, FAILURE) >= 0) rLen = 7;
  else if (r0 === 0x65 && lit(src, i, end, ERROR) >= 0) rLen = 5;
  if (rLen === 0 || src[i + rLen] !== QUOTE) return -1;
  for (let k = i; k < i + rLen; k++) out[at++] = src[k]!;
  out[at++] = COMMA;

  i = lit(src, i + rLen + 1, end, L_REASON);
  if (i < 0) return -1;
  at = copyNullable(src, i, end, out, at, 0, 4096);
  if (at < 0) return -1;
  out[at++] = COMMA;

  i = lit(src, cEnd, end, L_EXEC);
  if (i < 0) return -1;
  at = copyNumber(src, i, end, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;

  // model and model_version come before response_time_ms in the line, after it in the row.
  i = lit(src, cEnd, end, L_MODEL);
  if (i < 0) return -1;
  const mS = i;
  i = skipNullable(src, i, end);
  i = lit(src, i, end, L_VERSION);
  if (i < 0) return -1;
  const vS = i;
  i = skipNullable(src, i, end);
  i = lit(src, i, end, L_RT);
  if (i < 0) return -1;
  at = copyNumber(src, i, end, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;
  const afterRt = cEnd;
  at = copyNullable(src, mS, end, out, at, 1, 256);
  if (at < 0) return -1;
  out[at++] = COMMA;
  at = copyNullable(src, vS, end, out, at, 1, 256);
  if (at < 0) return -1;
  out[at++] = COMMA;

  i = lit(src, afterRt, end, L_TS);
  if (i < 0) return -1;
  const tsS = i;
  const tsE = scanString(src, i, end);
  if (tsE < 0 || !checkTimestamp(src, tsS, tsE)) return -1;
  let o = tsAt;
  for (let k = tsS; k < tsS + 19; k++) out[o++] = src[k]!;
  if (tsE - tsS === 24) for (let k = tsS + 19; k < tsE; k++) out[o++] = src[k]!;
  else writeAscii('.000Z', out, o);
  out[tsAt + 24] = COMMA;

  i = lit(src, tsE + 1, end, L_FEATURES);
  if (i < 0) return -1;
  at = copyFeatures(src, i, end, out, at);
  if (at < 0 || cEnd + 1 !== end || src[cEnd] !== RBRACE) return -1;
  out[at++] = 10;

  lastIdStart = idS;
  lastIdEnd = idE;
  lastIdAscii = (idMask & C_HIGH) === 0;
  return at;
}

// ---- tier 2: any key order, whitespace, absent optional fields, unsorted features ----

function encodeAnyOrder(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  let i = skipWs(src, start, end);
  if (i >= end || src[i] !== LBRACE) return -1;
  kind.fill(K_ABSENT);
  nFeatures = 0;
  i = skipWs(src, i + 1, end);
  for (;;) {
    if (i >= end || src[i] !== QUOTE) return -1;
    // Keys are plain ASCII: a quote ends them, a backslash means an escape (full path).
    const ks = i + 1;
    let k = ks;
    while (k < end && src[k] !== QUOTE && src[k] !== BACKSLASH) k++;
    if (k >= end || src[k] !== QUOTE) return -1;
    const f = fieldOf(src, ks, k);
    if (f < 0 || kind[f] !== K_ABSENT) return -1; // unknown or repeated key
    i = skipWs(src, k + 1, end);
    if (i >= end || src[i] !== COLON) return -1;
    i = skipWs(src, i + 1, end);
    if (i >= end) return -1;
    const b = src[i]!;
    if (b === QUOTE) {
      const q = scanString(src, i + 1, end);
      if (q < 0) return -1;
      kind[f] = K_STRING;
      vStart[f] = i + 1;
      vEnd[f] = q;
      vMask[f] = strMask;
      i = q + 1;
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      const e = scanNumber(src, i, end);
      if (e < 0) return -1;
      kind[f] = K_NUMBER;
      vStart[f] = i;
      vEnd[f] = e;
      vMask[f] = numCanonical ? 1 : 0;
      i = e;
    } else if (b === LBRACE) {
      if (f !== F_FEATURES) return -1;
      const e = scanFeatures(src, i, end);
      if (e < 0) return -1;
      kind[f] = K_OBJECT;
      i = e;
    } else if (literalAt(src, i, end, NULL)) {
      kind[f] = K_NULL;
      i += 4;
    } else if (literalAt(src, i, end, TRUE)) {
      kind[f] = K_TRUE;
      i += 4;
    } else if (literalAt(src, i, end, FALSE)) {
      kind[f] = K_FALSE;
      i += 5;
    } else return -1;
    i = skipWs(src, i, end);
    if (i >= end) return -1;
    if (src[i] === COMMA) {
      i = skipWs(src, i + 1, end);
      continue;
    }
    if (src[i] !== RBRACE) return -1;
    i = skipWs(src, i + 1, end);
    if (i !== end) return -1;
    break;
  }

  // Required fields and their types.
  if (kind[F_TASK] !== K_STRING || kind[F_DOMAIN] !== K_STRING || kind[F_ACTION] !== K_STRING || kind[F_TS] !== K_STRING) return -1;
  const fk = kind[F_FEATURES]!;
  if (fk !== K_ABSENT && fk !== K_OBJECT) return -1;

  // timestamp
  const tsS = vStart[F_TS]!;
  const tsE = vEnd[F_TS]!;
  if (!checkTimestamp(src, tsS, tsE)) return -1;
  for (let j = tsS; j < tsS + 19; j++) out[at++] = src[j]!;
  if (tsE - tsS === 24) for (let j = tsS + 19; j < tsE; j++) out[at++] = src[j]!;
  else at = writeAscii('.000Z', out, at);
  out[at++] = COMMA;

  // task_id: a token (1-256 code points, no control characters)
  const idS = vStart[F_TASK]!;
  const idE = vEnd[F_TASK]!;
  const idMask = vMask[F_TASK]!;
  const idLen = codePoints(src, idS, idE, idMask);
  if (idLen < 1 || idLen > 256) return -1;
  at = writeText(src, idS, idE, idMask, out, at, false);
  out[at++] = COMMA;

  // domain: ASCII without spaces or '/', lower-cased (non-ASCII needs Unicode lower-casing)
  const dS = vStart[F_DOMAIN]!;
  const dE = vEnd[F_DOMAIN]!;
  const dMask = vMask[F_DOMAIN]!;
  if (dE - dS < 1 || dE - dS > 253 || dMask & (C_HIGH | C_SPACE_SLASH)) return -1;
  at = writeText(src, dS, dE, dMask, out, at, true);
  out[at++] = COMMA;

  at = writeNullableText(src, F_URL, 0, 8192, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;

  const aLen = codePoints(src, vStart[F_ACTION]!, vEnd[F_ACTION]!, vMask[F_ACTION]!);
  if (aLen < 1 || aLen > 256) return -1;
  at = writeText(src, vStart[F_ACTION]!, vEnd[F_ACTION]!, vMask[F_ACTION]!, out, at, false);
  out[at++] = COMMA;

  // result: success | failure | error, or a boolean
  const rk = kind[F_RESULT]!;
  if (rk === K_TRUE) at = writeAscii('success', out, at);
  else if (rk === K_FALSE) at = writeAscii('failure', out, at);
  else if (rk === K_STRING) {
    const rs = vStart[F_RESULT]!;
    const re = vEnd[F_RESULT]!;
    if (!sameBytes(src, rs, re, SUCCESS) && !sameBytes(src, rs, re, FAILURE) && !sameBytes(src, rs, re, ERROR)) return -1;
    for (let j = rs; j < re; j++) out[at++] = src[j]!;
  } else return -1;
  out[at++] = COMMA;

  at = writeNullableText(src, F_REASON, 0, 4096, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;
  at = writeNumberField(src, F_EXEC, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;
  at = writeNumberField(src, F_RT, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;
  at = writeNullableText(src, F_MODEL, 1, 256, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;
  at = writeNullableText(src, F_VERSION, 1, 256, out, at);
  if (at < 0) return -1;
  out[at++] = COMMA;
  at = writeFeatures(src, out, at);
  if (at < 0) return -1;
  out[at++] = 10;

  lastIdStart = idS;
  lastIdEnd = idE;
  lastIdAscii = (idMask & C_HIGH) === 0;
  return at;
}
