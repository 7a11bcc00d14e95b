// 64-bit fingerprints of task ids, for counting each outcome once without keeping every id string
// in memory (16 bytes per distinct id instead of ~60). A collision among 10 million ids has a
// probability of about 3e-6; it would drop one record, never add one.

/**
 * Mixes UTF-8 bytes into two 32-bit lanes (the cyrb53 construction, kept at 64 bits). Byte-level
 * so a reader can fingerprint a task_id straight from a file buffer without decoding it.
 */
export function fingerprintBytes(bytes: Uint8Array, start = 0, end = bytes.length): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, 2654435761);
    h2 = Math.imul(h2 ^ b, 1597334677);
  }
  return finish(h1, h2);
}

/** The fingerprint of a string's UTF-8 bytes (lone surrogates as U+FFFD, like Buffer.from). */
export function fingerprintString(s: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const mix = (b: number) => {
    h1 = Math.imul(h1 ^ b, 2654435761);
    h2 = Math.imul(h2 ^ b, 1597334677);
  };
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      mix(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x800) {
      mix(0xc0 | (c >> 6));
      mix(0x80 | (c & 63));
    } else if (c < 0x10000) {
      mix(0xe0 | (c >> 12));
      mix(0x80 | ((c >> 6) & 63));
      mix(0x80 | (c & 63));
    } else {
      mix(0xf0 | (c >> 18));
      mix(0x80 | ((c >> 12) & 63));
      mix(0x80 | ((c >> 6) & 63));
      mix(0x80 | (c & 63));
    }
  }
  return finish(h1, h2);
}

function finish(h1: number, h2: number): [number, number] {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // (0, 0) marks an empty slot in FingerprintSet.
  if ((h1 | h2) === 0) h2 = 1;
  return [h1 | 0, h2 | 0];
}

/** An insert-only set of fingerprints: open addressing with linear probing on one Int32Array. */
export class FingerprintSet {
  private slots: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 12) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.slots = new Int32Array(cap * 2);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the fingerprint; false when it was already there. */
  add(h1: number, h2: number): boolean {
    if (this.count * 10 >= (this.mask + 1) * 6) this.grow();
    return this.insert(h1 | 0, h2 | 0);
  }

  private insert(h1: number, h2: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    // h1 is already well mixed; its low bits pick the slot.
    let i = h1 & mask;
    for (;;) {
      const a = slots[2 * i]!;
      const b = slots[2 * i + 1]!;
      if (a === 0 && b === 0) {
        slots[2 * i] = h1;
        slots[2 * i + 1] = h2;
        this.count++;
        return true;
      }
      if (a === h1 && b === h2) return false;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = old.length - 1; // new capacity (slots / 2) minus one
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      const a = old[i]!;
      const b = old[i + 1]!;
      if (a !== 0 || b !== 0) this.insert(a, b);
    }
  }
}
