// Compact hash tables keyed by 64-bit string digests, so collecting millions of outcomes keeps
// a few typed arrays (21 bytes per slot, at most half full: about 42-84 bytes per distinct key)
// instead of a JS object or string per record. Pure.
//
// A digest is two independent 32-bit murmur3-style hashes of the string's UTF-16 units. Two
// different task_ids share a digest with probability about n^2 / 2^65: about 3e-8 for a million
// task_ids, 3e-6 for ten million. The consequence of such a collision is one record treated as
// already seen; we accept that bound rather than keep every task_id in memory.
import { isUtf8 } from 'node:buffer';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a of a string's UTF-16 units: cheap, for telling apart versions of one key. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * hash32 of the UTF-8 text buf[start, end), without decoding it to a string: FNV-1a over the
 * UTF-16 units the text decodes to, so it equals hash32(buf.toString('utf8', start, end)).
 * Collect hashes rows as bytes, the pure planner as strings; both must agree.
 */
export function hash32Bytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return hash32Utf8(buf, i, end, h, start);
    h = Math.imul(h ^ b, 0x01000193);
  }
  return h >>> 0;
}

function hash32Utf8(buf: Uint8Array, i: number, end: number, h: number, start: number): number {
  // Invalid UTF-8 decodes to U+FFFD by rules not worth repeating here: hash the decoded string.
  if (!isUtf8(buf.subarray(i, end))) return hash32(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'));
  while (i < end) {
    const b = buf[i]!;
    let cp: number;
    if (b < 0x80) {
      cp = b;
      i++;
    } else if (b < 0xe0) {
      cp = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
      i += 2;
    } else if (b < 0xf0) {
      cp = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
      i += 3;
    } else {
      cp = ((b & 0x07) << 18) | ((buf[i + 1]! & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) | (buf[i + 3]! & 0x3f);
      i += 4;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      h = Math.imul(h ^ (0xd800 + (cp >> 10)), 0x01000193);
      h = Math.imul(h ^ (0xdc00 + (cp & 0x3ff)), 0x01000193);
    } else h = Math.imul(h ^ cp, 0x01000193);
  }
  return h >>> 0;
}

/** The two 32-bit halves of the last digest computed by digest64 (avoids allocating per call). */
export const lastDigest = new Uint32Array(2);

/** 64-bit digest of a string into lastDigest; never (0, 0). */
export function digest64(s: string): Uint32Array {
  let h1 = 0x9747b28c | 0;
  let h2 = 0x2f1a3d5b | 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    h1 = mix(h1, k);
    h2 = mix(h2, k ^ 0x5bd1e995);
  }
  if (i < n) {
    const k = s.charCodeAt(i);
    h1 = mix(h1, k);
    h2 = mix(h2, k ^ 0x5bd1e995);
  }
  h1 = fmix(h1 ^ n);
  h2 = fmix((h2 ^ Math.imul(n, 0x27d4eb2f)) + h1);
  if (h1 === 0 && h2 === 0) h2 = 1; // (0, 0) marks an empty slot
  lastDigest[0] = h1;
  lastDigest[1] = h2;
  return lastDigest;
}

/**
 * Open-addressing map from a string's digest to one float64 value (a timestamp, a shard index)
 * plus a byte of flags. Grows by doubling at half load.
 */
export class DigestTable {
  private keys: Uint32Array;
  private values: Float64Array;
  private flags: Uint8Array;
  private aux: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Uint32Array(cap * 2);
    this.values = new Float64Array(cap);
    this.flags = new Uint8Array(cap);
    this.aux = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the arrays (for memory reports). */
  get bytes(): number {
    return this.keys.byteLength + this.values.byteLength + this.flags.byteLength + this.aux.byteLength;
  }

  private slot(h1: number, h2: number): number {
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask;
    const keys = this.keys;
    for (;;) {
      const a = keys[i * 2]!;
      const b = keys[i * 2 + 1]!;
      if ((a === h1 && b === h2) || (a === 0 && b === 0)) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Slot of the key, or -1 when absent. */
  find(key: string): number {
    const d = digest64(key);
    const i = this.slot(d[0]!, d[1]!);
    return this.keys[i * 2] === 0 && this.keys[i * 2 + 1] === 0 ? -1 : i;
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  get(key: string): number | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.values[i];
  }

  /** Sets the value; returns the slot. */
  set(key: string, value: number): number {
    const i = this.insert(key);
    this.values[i] = value;
    return i;
  }

  /** Slot of the key, inserting it (value 0, flags 0) when absent. `inserted` tells which. */
  insert(key: string): number {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const d = digest64(key);
    const h1 = d[0]!;
    const h2 = d[1]!;
    const i = this.slot(h1, h2);
    if (this.keys[i * 2] === 0 && this.keys[i * 2 + 1] === 0) {
      this.keys[i * 2] = h1;
      this.keys[i * 2 + 1] = h2;
      this.count++;
      this.inserted = true;
    } else {
      this.inserted = false;
    }
    return i;
  }

  /** Whether the last insert() added the key. */
  inserted = false;

  valueAt(slot: number): number {
    return this.values[slot]!;
  }

  setValueAt(slot: number, value: number): void {
    this.values[slot] = value;
  }

  /** A second, 32-bit value per key (e.g. a row hash). */
  auxAt(slot: number): number {
    return this.aux[slot]!;
  }

  setAuxAt(slot: number, value: number): void {
    this.aux[slot] = value;
  }

  flagsAt(slot: number): number {
    return this.flags[slot]!;
  }

  setFlagsAt(slot: number, flags: number): void {
    this.flags[slot] = flags;
  }

  /** Number of keys whose flags equal `flags`. */
  countFlags(flags: number): number {
    let n = 0;
    for (let i = 0; i < this.flags.length; i++) {
      if (this.flags[i] === flags && (this.keys[i * 2] !== 0 || this.keys[i * 2 + 1] !== 0)) n++;
    }
    return n;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const oldFlags = this.flags;
    const oldAux = this.aux;
    const cap = (this.mask + 1) * 2;
    this.keys = new Uint32Array(cap * 2);
    this.values = new Float64Array(cap);
    this.flags = new Uint8Array(cap);
    this.aux = new Uint32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < oldValues.length; j++) {
      const a = oldKeys[j * 2]!;
      const b = oldKeys[j * 2 + 1]!;
      if (a === 0 && b === 0) continue;
      const i = this.slot(a, b);
      this.keys[i * 2] = a;
      this.keys[i * 2 + 1] = b;
      this.values[i] = oldValues[j]!;
      this.flags[i] = oldFlags[j]!;
      this.aux[i] = oldAux[j]!;
    }
  }
}
