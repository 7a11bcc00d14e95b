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
  const col = new Float32Array(rows.length);
  const thresholds: Float32Array[] = [];
  let widest = 1;
  for (let j = 0; j < f; j++) {
    for (let k = 0; k < rows.length; k++) col[k] = X[rows[k] * f + j];
    col.sort();
    const t = featureThresholds(col, maxBins);
    thresholds.push(t);
    widest = Math.max(widest, t.length + 1);
  }
  return { thresholds, maxBins: widest };
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

/** Row-major bin codes of a matrix under a fitted binning (padding bytes are 0). */
export function applyBinning(m: Matrix, binning: Binning): BinnedMatrix {
  const { X, n, f } = m;
  const stride = binStride(f);
  const codes = new Uint8Array(n * stride);
  for (let i = 0; i < n; i++) {
    const xo = i * f;
    const co = i * stride;
    for (let j = 0; j < f; j++) {
      const t = binning.thresholds[j];
      const x = X[xo + j];
      // First index with x <= t[idx]: binary search over at most 254 thresholds.
      let lo = 0;
      let hi = t.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (x <= t[mid]) hi = mid;
        else lo = mid + 1;
      }
      codes[co + j] = lo;
    }
  }
  return { codes, stride, n, f };
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
