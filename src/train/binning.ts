// Quantile binning for the histogram trees. Each feature gets increasing float32 thresholds and a
// value x falls in bin b = the first k with x <= t[k] (or the last bin). A split "bin <= b" is then
// exactly "x <= t[b]" in float32, the test onnxruntime's BRANCH_LEQ makes, so the exported trees
// decide every row — seen or unseen — the way the trainer did.
import type { Matrix } from './matrix.js';
import { createRng } from './rng.js';

/** Rows sampled to find thresholds; beyond this the quantiles hardly move (sklearn uses 2e5 too). */
export const BINNING_SAMPLE = 200_000;

export interface Binning {
  /** Per feature: strictly increasing float32 thresholds; feature j has thresholds[j].length + 1 bins. */
  thresholds: Float32Array[];
  /** Largest bin count over the features (histogram stride). */
  maxBins: number;
}

export function fitBinning(m: Matrix, maxBins: number, seed: number): Binning {
  const { X, n, f } = m;
  // Same sample rows for every feature, drawn with the seed: reproducible and memory-bounded.
  let rows: Uint32Array;
  if (n <= BINNING_SAMPLE) {
    rows = new Uint32Array(n);
    for (let i = 0; i < n; i++) rows[i] = i;
  } else {
    rows = sampleWithoutReplacement(n, BINNING_SAMPLE, seed);
  }
  const ns = rows.length;
  // Gather the sample column-major in one pass over its rows (each row read once, contiguously).
  const cols = new Float32Array(ns * f);
  for (let k = 0; k < ns; k++) {
    const o = rows[k] * f;
    for (let j = 0, c = k; j < f; j++, c += ns) cols[c] = X[o + j];
  }
  const scratch = new Uint32Array(ns);
  const thresholds: Float32Array[] = [];
  let widest = 1;
  for (let j = 0; j < f; j++) {
    const col = cols.subarray(j * ns, (j + 1) * ns);
    sortFloat32(col, scratch);
    const t = featureThresholds(col, maxBins);
    thresholds.push(t);
    widest = Math.max(widest, t.length + 1);
  }
  return { thresholds, maxBins: widest };
}

/**
 * Ascending sort of float32 values (no NaN) by an LSD radix sort on their bit patterns mapped to
 * unsigned order: three 11-bit passes, several times faster than the comparison sort.
 */
export function sortFloat32(values: Float32Array, scratch: Uint32Array): void {
  const n = values.length;
  const keys = new Uint32Array(values.buffer, values.byteOffset, n);
  // Order-preserving map: flip all bits of negatives, only the sign bit of the rest.
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    keys[i] = k & 0x80000000 ? ~k >>> 0 : (k | 0x80000000) >>> 0;
  }
  let src = keys;
  let dst = scratch.subarray(0, n);
  const count = new Uint32Array(2048);
  for (let shift = 0; shift < 33; shift += 11) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(src[i] >>> shift) & 2047]++;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = src[i];
      dst[count[(k >>> shift) & 2047]++] = k;
    }
    [src, dst] = [dst, src];
  }
  // Three passes leave the result in scratch.
  for (let i = 0; i < n; i++) {
    const k = src[i];
    keys[i] = k & 0x80000000 ? (k & 0x7fffffff) >>> 0 : ~k >>> 0;
  }
}

/** Thresholds of one sorted column: midpoints between distinct values, or quantiles when too many. */
export function featureThresholds(sorted: Float32Array, maxBins: number): Float32Array {
  const m = sorted.length;
  const distinct: number[] = [];
  for (let k = 0; k < m; k++) {
    if (k === 0 || sorted[k] !== sorted[k - 1]) distinct.push(sorted[k]);
    if (distinct.length > maxBins) break;
  }
  const raw: number[] = [];
  if (distinct.length <= maxBins) {
    for (let k = 1; k < distinct.length; k++) raw.push(midpoint32(distinct[k - 1], distinct[k]));
  } else {
    // Quantiles at k/maxBins; a threshold is the midpoint between the two order statistics around
    // the quantile (numpy's "midpoint" percentile), then made float32-exact.
    for (let k = 1; k < maxBins; k++) {
      const pos = (k / maxBins) * (m - 1);
      const lo = sorted[Math.floor(pos)];
      const hi = sorted[Math.ceil(pos)];
      raw.push(lo === hi ? lo : midpoint32(lo, hi));
    }
  }
  const out: number[] = [];
  for (const t of raw) if (out.length === 0 || t > out[out.length - 1]) out.push(t);
  // A threshold at the column maximum separates nothing in the sample.
  while (out.length > 0 && out[out.length - 1] >= sorted[m - 1]) out.pop();
  return Float32Array.from(out);
}

/** A float32 t with a <= t < b for float32 a < b: the midpoint rounded, or a when rounding reaches b. */
export function midpoint32(a: number, b: number): number {
  const t = Math.fround(a + (b - a) / 2);
  return t >= b || t < a ? a : t;
}

/** Bin codes of a matrix: row i, feature j at `codes[i * stride + j]`. */
export interface BinnedMatrix {
  codes: Uint8Array;
  /** f rounded up to a multiple of 4, so a row can be read as whole 32-bit words. */
  stride: number;
  n: number;
  f: number;
}

export function binStride(f: number): number {
  return (f + 3) & ~3;
}

/**
 * Row-major bin codes of a matrix under a fitted binning (padding bytes are 0), written into
 * `codes` when given (n * binStride(f) bytes, zeroed). A value's bin is found through a table
 * indexed by the top 14 bits of its float32 pattern (sign, exponent, 5 mantissa bits), which
 * narrows the search to the few thresholds inside that bucket (at most 3 for nearly every
 * value); those are compared without branches, as a branch on them would be mispredicted half
 * of the time.
 */
export function applyBinning(m: Matrix, binning: Binning, codes: Uint8Array = new Uint8Array(m.n * binStride(m.f))): BinnedMatrix {
  const { X, n, f } = m;
  const stride = binStride(f);
  const bits = new Uint32Array(X.buffer, X.byteOffset, X.length);
  const tables = binning.thresholds.map(bucketTable);
  // Thresholds followed by +Infinity, so that the comparisons below never read past the end.
  const padded = binning.thresholds.map((t) => Float32Array.from([...t, Infinity, Infinity, Infinity]));
  // Blocks of rows small enough to stay in cache while each feature's column is binned.
  const BLOCK = 2048;
  for (let s = 0; s < n; s += BLOCK) {
    const e = Math.min(n, s + BLOCK);
    for (let j = 0; j < f; j++) {
      const t = padded[j];
      const table = tables[j];
      for (let i = s, k = s * f + j, c = s * stride + j; i < e; i++, k += f, c += stride) {
        const x = X[k];
        const range = table[bits[k] >>> BUCKET_SHIFT];
        let lo = range & 0xffff;
        let hi = range >>> 16;
        if (hi - lo <= 3) {
          // The bin is lo plus the number of thresholds below x (none from hi on: x <= t[hi]).
          codes[c] = lo + Number(x > t[lo]) + Number(x > t[lo + 1]) + Number(x > t[lo + 2]);
          continue;
        }
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (x <= t[mid]) hi = mid;
          else lo = mid + 1;
        }
        codes[c] = lo;
      }
    }
  }
  return { codes, stride, n, f };
}

/** Float32 patterns share a bucket when they agree on their top 14 bits (sign, exponent, 5 mantissa bits). */
const BUCKET_SHIFT = 18;

/** For each float32 prefix: the bin range of all values with that prefix, packed lo | hi << 16. */
function bucketTable(t: Float32Array): Uint32Array {
  const size = 1 << (32 - BUCKET_SHIFT);
  const table = new Uint32Array(size);
  const low = (1 << BUCKET_SHIFT) - 1;
  const v = new Float32Array(2);
  const u = new Uint32Array(v.buffer);
  const binOf = (x: number): number => {
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x <= t[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  for (let b = 0; b < size; b++) {
    u[0] = (b << BUCKET_SHIFT) >>> 0;
    u[1] = ((b << BUCKET_SHIFT) | low) >>> 0;
    let a = v[0];
    let z = v[1];
    if (Number.isNaN(a) || Number.isNaN(z)) {
      // Exponent all ones: ±Infinity and NaNs. NaN never reaches here (rejected before training).
      a = z = u[0] & 0x80000000 ? -Infinity : Infinity;
    }
    const lo = binOf(Math.min(a, z));
    const hi = binOf(Math.max(a, z));
    table[b] = (lo | (hi << 16)) >>> 0;
  }
  return table;
}

/** k distinct indices out of [0, n), in increasing order, drawn with the seed (Floyd's algorithm). */
export function sampleWithoutReplacement(n: number, k: number, seed: number): Uint32Array {
  const rng = createRng(seed);
  const chosen = new Uint8Array(n);
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(rng.next() * (j + 1));
    if (chosen[t]) chosen[j] = 1;
    else chosen[t] = 1;
  }
  const out = new Uint32Array(k);
  for (let i = 0, c = 0; i < n; i++) if (chosen[i]) out[c++] = i;
  return out;
}
