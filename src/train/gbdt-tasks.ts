// The per-row work of the gbdt trainer, cut into two halves that the calling thread and a helper
// thread run at the same time on one shared memory. A half writes only its own part of the
// outputs, and the halves' sums are combined by the caller in a fixed order, so the model is the
// same whichever thread ran which half, and with one thread.
//
// These functions are also the helper thread's code: gbdt-threads.ts ships them as source text
// (TASK_SOURCE), so they may use only their arguments, globals and each other.
import type { GbdtKernels } from './gbdt-kernels.js';

/** Byte offsets of the arrays in the shared memory, plus the sizes the tasks need. */
export interface Layout {
  n: number;
  nValid: number;
  f: number;
  stride: number;
  maxBins: number;
  histFloats: number;
  maxNodes: number;
  maxLeaves: number;
  rows: number;
  tmp: number;
  codes: number;
  columns: number;
  gh: number;
  raw: number;
  y: number;
  vcodes: number;
  vraw: number;
  vy: number;
  feature: number;
  bin: number;
  left: number;
  right: number;
  value: number;
  leaves: number;
  args: number;
  out: number;
  hist0: number;
  hist1: number;
  base0: number;
  base1: number;
  bytes: number;
}

export interface LayoutSizes {
  n: number;
  nValid: number;
  f: number;
  stride: number;
  maxBins: number;
  maxLeaves: number;
}

/**
 * Memory of one training run:
 *   rows, tmp  u32[n]        row indices, partitioned in place (tmp holds the rights meanwhile)
 *   codes      u8[n*stride]  row-major bin codes (histograms read whole rows)
 *   columns    u8[f*n]       column-major bin codes (a partition reads one feature of many rows)
 *   gh         f64[2n]       gradient and hessian of each row, interleaved
 *   raw, y     f64[n], u8[n] training scores and labels; vcodes, vraw, vy: the same for validation
 *   the current tree (feature, bin, left, right, value) and its leaves' row ranges
 *   args, out  i32[2*ARGS], f64[2*OUTS]  per half: a task's arguments and its results
 *   hist0/1    f64[f*maxBins*3]  each half's partial histogram: per feature, per bin Σg, Σh, count
 *   base0/1    the same with only the counts, of each half's rows: the root's when every row is used
 * The gradient kernels read a few bytes past the end of raw, y, vraw and vy (into the next array).
 */
export function planLayout({ n, nValid, f, stride, maxBins, maxLeaves }: LayoutSizes): Layout {
  let offset = 0;
  const alloc = (bytes: number): number => {
    const at = offset;
    offset += Math.ceil(bytes / 16) * 16;
    return at;
  };
  const maxNodes = 2 * maxLeaves - 1;
  const histFloats = f * maxBins * 3;
  const layout = {
    n,
    nValid,
    f,
    stride,
    maxBins,
    histFloats,
    maxNodes,
    maxLeaves,
    rows: alloc(4 * n),
    tmp: alloc(4 * n),
    codes: alloc(n * stride),
    columns: alloc(n * f),
    gh: alloc(16 * n),
    raw: alloc(8 * n),
    y: alloc(n),
    vcodes: alloc(nValid * stride),
    vraw: alloc(8 * nValid),
    vy: alloc(nValid),
    feature: alloc(4 * maxNodes),
    bin: alloc(4 * maxNodes),
    left: alloc(4 * maxNodes),
    right: alloc(4 * maxNodes),
    value: alloc(8 * maxNodes),
    leaves: alloc(8 * 3 * maxLeaves),
    args: alloc(4 * 2 * ARGS),
    out: alloc(8 * 2 * OUTS),
    hist0: alloc(8 * histFloats),
    hist1: alloc(8 * histFloats),
    base0: alloc(8 * histFloats),
    base1: alloc(8 * histFloats),
    bytes: 0,
  };
  layout.bytes = offset;
  return layout;
}

/** Slots per half for a task's arguments and for its results. */
export const ARGS = 6;
export const OUTS = 3;

export const TASK_PREPARE = 0;
export const TASK_OPEN = 1;
export const TASK_SPLIT = 2;
export const TASK_CLOSE = 3;

export interface Views {
  rows: Uint32Array;
  tmp: Uint32Array;
  codes: Uint8Array;
  columns: Uint8Array;
  gh: Float64Array;
  raw: Float64Array;
  y: Uint8Array;
  vcodes: Uint8Array;
  vraw: Float64Array;
  vy: Uint8Array;
  feature: Int32Array;
  bin: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  /** Leaf k of the current tree: rows[leaves[3k] .. leaves[3k + 1]) get leaves[3k + 2]. */
  leaves: Float64Array;
  args: Int32Array;
  out: Float64Array;
  hist: Float64Array[];
  base: Float64Array[];
  layout: Layout;
  kernels: GbdtKernels;
}

export function makeViews(buffer: ArrayBufferLike, L: Layout, kernels: GbdtKernels): Views {
  return {
    rows: new Uint32Array(buffer, L.rows, L.n),
    tmp: new Uint32Array(buffer, L.tmp, L.n),
    codes: new Uint8Array(buffer, L.codes, L.n * L.stride),
    columns: new Uint8Array(buffer, L.columns, L.n * L.f),
    gh: new Float64Array(buffer, L.gh, 2 * L.n),
    raw: new Float64Array(buffer, L.raw, L.n),
    y: new Uint8Array(buffer, L.y, L.n),
    vcodes: new Uint8Array(buffer, L.vcodes, L.nValid * L.stride),
    vraw: new Float64Array(buffer, L.vraw, L.nValid),
    vy: new Uint8Array(buffer, L.vy, L.nValid),
    feature: new Int32Array(buffer, L.feature, L.maxNodes),
    bin: new Int32Array(buffer, L.bin, L.maxNodes),
    left: new Int32Array(buffer, L.left, L.maxNodes),
    right: new Int32Array(buffer, L.right, L.maxNodes),
    value: new Float64Array(buffer, L.value, L.maxNodes),
    leaves: new Float64Array(buffer, L.leaves, 3 * L.maxLeaves),
    args: new Int32Array(buffer, L.args, 2 * ARGS),
    out: new Float64Array(buffer, L.out, 2 * OUTS),
    hist: [new Float64Array(buffer, L.hist0, L.histFloats), new Float64Array(buffer, L.hist1, L.histFloats)],
    base: [new Float64Array(buffer, L.base0, L.histFloats), new Float64Array(buffer, L.base1, L.histFloats)],
    layout: L,
    kernels,
  };
}

/** Runs one half (0 or 1) of a task: arguments at args[half * ARGS ...], results at out[half * OUTS ...]. */
export function runTask(v: Views, kind: number, half: number): void {
  const args = v.args.subarray(half * ARGS, (half + 1) * ARGS);
  const out = v.out.subarray(half * OUTS, (half + 1) * OUTS);
  if (kind === TASK_PREPARE) prepare(v, half, args);
  else if (kind === TASK_OPEN) openRound(v, half, args, out);
  else if (kind === TASK_SPLIT) splitNode(v, half, args, out);
  else closeRound(v, args, out);
}

/**
 * Before the first round, for training rows [i0, i1) (args 0-1): their column-major codes, and
 * the counts of their codes per feature and bin into base[half].
 */
function prepare(v: Views, half: number, args: Int32Array): void {
  const [i0, i1] = args;
  const { codes, columns } = v;
  const { n, f, stride, maxBins } = v.layout;
  const counts = v.base[half];
  // Blocks of rows small enough that their codes stay in cache while each feature is read.
  const BLOCK = 4096;
  for (let s = i0; s < i1; s += BLOCK) {
    const e = Math.min(i1, s + BLOCK);
    for (let j = 0; j < f; j++) {
      const o = j * n;
      const q = j * maxBins * 3 + 2;
      for (let i = s, k = s * stride + j; i < e; i++, k += stride) {
        const code = codes[k];
        columns[o + i] = code;
        counts[q + 3 * code] += 1;
      }
    }
  }
}

/**
 * Start of a round, for training rows [i0, i1) and root positions [p0, p1) (args 0-3; arg 4 = 1
 * when every row is used: rows[i0, i1) is then reset to the identity, and p0 = i0, p1 = i1).
 * Writes the gradients of its rows; returns their log-loss sum and the root's Σg and Σh over its
 * positions, and builds the root's partial histogram if arg 5 = 1.
 */
function openRound(v: Views, half: number, args: Int32Array, out: Float64Array): void {
  const { rows, gh, layout } = v;
  const [i0, i1, p0, p1, whole, build] = args;
  const [loss, g, h] = v.kernels.gradients(i0, i1);
  out[0] = loss;
  if (whole === 1) {
    for (let k = i0; k < i1; k++) rows[k] = k;
    out[1] = g;
    out[2] = h;
    if (build === 1) {
      // Every row is in the root: its counts are the same every round.
      v.hist[half].set(v.base[half]);
      v.kernels.histSums(layout.rows, p0, p1, half === 0 ? layout.hist0 : layout.hist1);
    }
  } else {
    let gRoot = 0;
    let hRoot = 0;
    for (let k = p0; k < p1; k++) {
      const i = rows[k];
      gRoot += gh[2 * i];
      hRoot += gh[2 * i + 1];
    }
    out[1] = gRoot;
    out[2] = hRoot;
    if (build === 1) buildHist(v, half, layout.rows, p0, p1);
  }
}

/**
 * Stable partition of rows[s, e) (args 0-1) by bin code <= bin of feature j (args 3, 2): the lefts
 * stay at rows[s ...), the rights go to tmp[s ...); returns the number of lefts. Arg 4 asks for
 * the partial histogram of this half's lefts (1) or rights (2) as well. The second half of a node
 * ends with its rights in the final order, so it puts them back right after its lefts; the first
 * half's rights and the second half's lefts move once both halves are done.
 */
function splitNode(v: Views, half: number, args: Int32Array, out: Float64Array): void {
  const [s, e, j, b, side] = args;
  const { layout } = v;
  const lefts = v.kernels.partition(s, e, layout.columns + j * layout.n, b);
  if (half === 1) v.rows.set(v.tmp.subarray(s, e - lefts), s + lefts);
  out[0] = lefts;
  if (side === 1) buildHist(v, half, layout.rows, s, s + lefts);
  else if (side === 2) buildHist(v, half, layout.tmp, s, e - lefts);
}

/** This half's partial histogram of the rows at positions [start, end) of the u32 array at rowsAt. */
function buildHist(v: Views, half: number, rowsAt: number, start: number, end: number): void {
  v.hist[half].fill(0);
  v.kernels.hist(rowsAt, start, end, half === 0 ? v.layout.hist0 : v.layout.hist1);
}

/**
 * End of a round: adds the current tree to the scores of training rows [i0, i1) (args 0-1) and
 * of validation rows [v0, v1) (args 2-3), and returns the validation log-loss sum. Arg 4 is the
 * number of leaves when every training row sits in one of their row ranges (each range sorted,
 * so this half's rows in it are found by bisection), or -1 to walk the tree for each row.
 */
function closeRound(v: Views, args: Int32Array, out: Float64Array): void {
  const { rows, raw, leaves } = v;
  const [i0, i1, v0, v1, nLeaves] = args;
  if (nLeaves < 0) {
    addTree(v, v.codes, raw, i0, i1);
  } else {
    for (let l = 0; l < nLeaves; l++) {
      const hi = lowerBound(rows, leaves[3 * l], leaves[3 * l + 1], i1);
      v.kernels.addLeaf(lowerBound(rows, leaves[3 * l], hi, i0), hi, leaves[3 * l + 2]);
    }
  }
  addTree(v, v.vcodes, v.vraw, v0, v1);
  out[0] = v.kernels.validLoss(v0, v1);
}

/** First position in the sorted rows[start, end) holding a row index >= i. */
export function lowerBound(rows: Uint32Array, start: number, end: number, i: number): number {
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds the current tree's leaf value to raw[i] for binned rows [start, end). */
function addTree(v: Views, codes: Uint8Array, raw: Float64Array, start: number, end: number): void {
  const { feature, bin, left, right, value } = v;
  const { stride } = v.layout;
  for (let i = start, base = start * stride; i < end; i++, base += stride) {
    let node = 0;
    while (feature[node] >= 0) node = codes[base + feature[node]] <= bin[node] ? left[node] : right[node];
    raw[i] += value[node];
  }
}

/** The helper thread's copy of the functions above. */
export const TASK_SOURCE = [
  `const ARGS = ${ARGS}, OUTS = ${OUTS}, TASK_PREPARE = ${TASK_PREPARE}, TASK_OPEN = ${TASK_OPEN}, TASK_SPLIT = ${TASK_SPLIT};`,
  makeViews,
  runTask,
  prepare,
  openRound,
  splitNode,
  buildHist,
  closeRound,
  lowerBound,
  addTree,
].join('\n');
