// Histogram gradient-boosted trees for binary log-loss (the `gbdt` trainer). Features are binned
// once into bytes (quantile thresholds, float32-exact), trees grow best-first under a depth and a
// leaf limit, the smaller child's histogram is built and the larger one is parent minus smaller,
// and boosting stops early when the validation loss has not improved for a number of rounds.
// Everything is typed arrays; the only randomness (binning sample, row subsampling) comes from the seed.
import type { LabeledMatrix, Matrix } from './matrix.js';
import { checkSplit, checkTrainingData, countPositives } from './matrix.js';
import { applyBinning, fitBinning, type Binning, type BinnedMatrix } from './binning.js';
import { createRng } from './rng.js';
import { createHistKernel, type HistKernel } from './hist-kernel.js';
import { log1pExp, meanLogLossRaw, sigmoid } from './loss.js';
import { resolveParams, type ParamSpec } from './params.js';
import type { ProgressCallback } from './progress.js';

export interface GbdtParams {
  /** Boosting rounds (upper bound when early stopping). */
  trees: number;
  /** Maximum depth of a tree (root at depth 0). */
  depth: number;
  learning_rate: number;
  /** Bins per feature, at most 255 (bin codes are bytes). */
  max_bins: number;
  /** Minimum training rows in a leaf. */
  min_samples_leaf: number;
  /** L2 penalty on leaf values (λ in -G / (H + λ)). */
  l2: number;
  /** Share of training rows drawn (with the seed) for each tree; 1 uses every row. */
  subsample: number;
  /** Stop after this many rounds without a better validation loss; 0 disables early stopping. */
  early_stopping_rounds: number;
  /** Maximum leaves per tree; null means 2^depth (a full tree of that depth). */
  max_leaves: number | null;
}

export const GBDT_PARAM_SPECS: Record<keyof GbdtParams, ParamSpec> = {
  trees: { default: 200, min: 1, max: 100_000, integer: true },
  depth: { default: 6, min: 1, max: 20, integer: true },
  learning_rate: { default: 0.1, min: 0, minExclusive: true, max: 10 },
  max_bins: { default: 255, min: 2, max: 255, integer: true },
  min_samples_leaf: { default: 20, min: 1, integer: true },
  l2: { default: 1, min: 0 },
  subsample: { default: 1, min: 0, minExclusive: true, max: 1 },
  early_stopping_rounds: { default: 20, min: 0, integer: true },
  max_leaves: { default: null, min: 2, max: 1 << 20, integer: true, nullable: true },
};

export function resolveGbdtParams(given?: Record<string, unknown>): GbdtParams {
  return resolveParams<GbdtParams>('gbdt', GBDT_PARAM_SPECS, given);
}

/** One regression tree in flat arrays; node 0 is the root, leaves have feature -1. */
export interface Tree {
  feature: Int32Array;
  /** float32 split value: rows with x <= threshold go left. */
  threshold: Float32Array;
  /** The same split as a bin code (x's bin <= bin goes left), for scoring binned rows. */
  bin: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf outputs (learning rate applied, float32-exact); 0 on internal nodes. */
  value: Float32Array;
}

export interface GbdtModel {
  kind: 'gbdt';
  nFeatures: number;
  /** Initial log-odds (float32-exact), the prior of the training labels. */
  baseScore: number;
  trees: Tree[];
  params: GbdtParams;
  /** Rounds run before stopping, and how many trees were kept (the best validation round). */
  rounds: number;
  bestRounds: number;
  history: { trainLoss: number[]; validLoss: (number | null)[] };
}

export interface TrainGbdtOptions {
  train: LabeledMatrix;
  valid?: LabeledMatrix | null;
  params?: Partial<GbdtParams> | Record<string, unknown>;
  seed?: number;
  featureNames?: readonly string[];
  onProgress?: ProgressCallback;
  /** Threads building histograms: 1 or 2 (default 2 on a multi-core machine). The model is the same either way. */
  threads?: number;
}

/** Smallest hessian sum a child may have (sklearn's min_hessian_to_split). */
const MIN_HESSIAN = 1e-3;
/** A split must improve the objective by more than this. */
const MIN_GAIN = 1e-10;

export function trainGbdt({ train, valid, params, seed = 0, featureNames, onProgress, threads }: TrainGbdtOptions): GbdtModel {
  const p = resolveGbdtParams(params as Record<string, unknown> | undefined);
  checkTrainingData(train, featureNames);
  const hasValid = valid != null && valid.n > 0;
  if (valid != null) checkSplit(valid, 'validation', train.f, featureNames);
  const { n } = train;
  const maxLeaves = p.max_leaves ?? 2 ** Math.min(p.depth, 20);

  const binning = fitBinning(train, p.max_bins, seed);
  // The training codes, gradients and row indices live in the histogram kernel's memory.
  const binned = applyBinning(train, binning);
  const kernel = createHistKernel(n, binned.stride, binning.maxBins, { threads });
  try {
    return boost({ train, valid: hasValid ? valid! : null, p, seed, binning, binned, kernel, maxLeaves, onProgress });
  } finally {
    void kernel.close();
  }
}

interface BoostInput {
  train: LabeledMatrix;
  valid: LabeledMatrix | null;
  p: GbdtParams;
  seed: number;
  binning: Binning;
  binned: BinnedMatrix;
  kernel: HistKernel;
  maxLeaves: number;
  onProgress?: ProgressCallback;
}

/** The boosting rounds, on data already binned into the kernel's memory. */
function boost({ train, valid, p, seed, binning, binned, kernel, maxLeaves, onProgress }: BoostInput): GbdtModel {
  const { n, f, y } = train;
  const hasValid = valid !== null;
  kernel.codes.set(binned.codes);
  const bins: BinnedMatrix = { ...binned, codes: kernel.codes };
  const vbins = hasValid ? applyBinning(valid!, binning) : null;

  const prior = countPositives(y) / n;
  const baseScore = Math.fround(Math.log(prior / (1 - prior)));
  const raw = new Float64Array(n).fill(baseScore);
  const vraw = hasValid ? new Float64Array(valid!.n).fill(baseScore) : null;
  const gh = kernel.gh;
  const grower = new TreeGrower(bins, binning, kernel, p, maxLeaves);
  const rng = createRng(seed ^ 0x5bd1e995);

  const trees: Tree[] = [];
  const history = { trainLoss: [] as number[], validLoss: [] as (number | null)[] };
  let bestLoss = Infinity;
  let bestRounds = 0;
  let pendingValid: number | null = null;
  const report = (iteration: number, trainLoss: number, validLoss: number | null): void => {
    history.trainLoss.push(trainLoss);
    history.validLoss.push(validLoss);
    onProgress?.({ iteration, total: p.trees, trainLoss, validLoss });
  };

  for (let t = 0; t < p.trees; t++) {
    // The gradient pass also yields the loss of the model so far: the previous round's train loss.
    const loss = gradients(raw, y, gh);
    if (t > 0) report(t, loss, pendingValid);

    const rows = kernel.rows;
    let m = n;
    if (p.subsample < 1) {
      m = 0;
      for (let i = 0; i < n; i++) if (rng.next() < p.subsample) rows[m++] = i;
      if (m === 0) rows[m++] = Math.floor(rng.next() * n);
    } else {
      for (let i = 0; i < n; i++) rows[i] = i;
    }
    const { tree, leaves } = grower.grow(rows, m);
    trees.push(tree);

    if (m === n) {
      // Every row sits in exactly one leaf range: add leaf values without walking the tree.
      for (const leaf of leaves) {
        const v = tree.value[leaf.node];
        for (let k = leaf.start; k < leaf.end; k++) raw[rows[k]] += v;
      }
    } else {
      addTreeBinned(tree, bins, raw);
    }

    if (vraw) {
      addTreeBinned(tree, vbins!, vraw);
      const vl = meanLogLossRaw(vraw, valid!.y);
      pendingValid = vl;
      if (vl < bestLoss - 1e-12) {
        bestLoss = vl;
        bestRounds = t + 1;
      } else if (p.early_stopping_rounds > 0 && t + 1 - bestRounds >= p.early_stopping_rounds) {
        break;
      }
    } else {
      bestRounds = t + 1;
    }
  }
  report(trees.length, meanLogLossRaw(raw, y), pendingValid);

  const rounds = trees.length;
  const kept = p.early_stopping_rounds > 0 && hasValid ? Math.max(1, bestRounds) : rounds;
  return {
    kind: 'gbdt',
    nFeatures: f,
    baseScore,
    trees: trees.slice(0, kept),
    params: p,
    rounds,
    bestRounds: kept,
    history,
  };
}

/** Raw scores (log-odds) of float rows, walking thresholds exactly as onnxruntime does. */
export function predictGbdtRaw(model: GbdtModel, m: Matrix): Float64Array {
  const { X, n, f } = m;
  const out = new Float64Array(n).fill(model.baseScore);
  for (const tree of model.trees) {
    const { feature, threshold, left, right, value } = tree;
    for (let i = 0, base = 0; i < n; i++, base += f) {
      let node = 0;
      while (feature[node] >= 0) node = X[base + feature[node]] <= threshold[node] ? left[node] : right[node];
      out[i] += value[node];
    }
  }
  return out;
}

/** Probabilities of float rows. */
export function predictGbdt(model: GbdtModel, m: Matrix): Float64Array {
  const raw = predictGbdtRaw(model, m);
  for (let i = 0; i < raw.length; i++) raw[i] = sigmoid(raw[i]);
  return raw;
}

function addTreeBinned(tree: Tree, bins: BinnedMatrix, raw: Float64Array): void {
  const { feature, bin, left, right, value } = tree;
  const { codes, stride, n } = bins;
  for (let i = 0, base = 0; i < n; i++, base += stride) {
    let node = 0;
    while (feature[node] >= 0) node = codes[base + feature[node]] <= bin[node] ? left[node] : right[node];
    raw[i] += value[node];
  }
}

/**
 * Log-loss gradients and hessians at the current raw scores; returns the mean loss. The loss is
 * only reported, so it takes one log per 16 rows (of the product of their likelihoods, each
 * floored at 1e-15 so that the product cannot underflow) instead of one per row.
 */
function gradients(raw: Float64Array, y: Uint8Array, gh: Float64Array): number {
  const n = raw.length;
  let loss = 0;
  let prod = 1;
  for (let i = 0; i < n; i++) {
    const z = raw[i];
    const e = Math.exp(-Math.abs(z));
    // p = sigmoid(z) computed from e = exp(-|z|) so that it never overflows.
    const p = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    const yi = y[i];
    gh[2 * i] = p - yi;
    gh[2 * i + 1] = Math.max(p * (1 - p), 1e-16);
    // 1 - p computed without cancellation, for rows the model is sure are failures.
    const like = yi === 1 ? p : z >= 0 ? e / (1 + e) : 1 / (1 + e);
    prod *= like > 1e-15 ? like : 1e-15;
    if ((i & 15) === 15) {
      loss -= Math.log(prod);
      prod = 1;
    }
  }
  loss -= Math.log(prod);
  return loss / n;
}

interface Split {
  gain: number;
  feature: number;
  bin: number;
  gl: number;
  hl: number;
  cl: number;
}

interface OpenLeaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  c: number;
  hist: Float64Array | null;
  split: Split | null;
}

/** Grows one tree at a time, reusing its row buffers and a pool of histograms across rounds. */
class TreeGrower {
  private readonly tmp: Uint32Array;
  private readonly rowStride: number;
  private readonly nbins: Int32Array;
  /** Histogram stride of one feature (3 slots per bin). */
  private readonly stride: number;
  private readonly pool: Float64Array[] = [];
  /** Column-major copy of the codes: partitioning reads one feature of many rows. */
  private readonly columns: Uint8Array;
  private readonly n: number;
  private readonly gh: Float64Array;
  private readonly f: number;

  constructor(
    bins: BinnedMatrix,
    private readonly binning: Binning,
    private readonly kernel: HistKernel,
    private readonly p: GbdtParams,
    private readonly maxLeaves: number,
  ) {
    const n = bins.n;
    this.n = n;
    this.columns = transposeCodes(bins);
    this.rowStride = bins.stride;
    this.f = bins.f;
    this.gh = kernel.gh;
    this.tmp = new Uint32Array(n);
    this.nbins = Int32Array.from(binning.thresholds, (t) => t.length + 1);
    this.stride = binning.maxBins * 3;
  }

  grow(rows: Uint32Array, m: number): { tree: Tree; leaves: OpenLeaf[] } {
    const { p } = this;
    const feature: number[] = [-1];
    const threshold: number[] = [0];
    const bin: number[] = [0];
    const left: number[] = [-1];
    const right: number[] = [-1];

    let g = 0;
    let h = 0;
    for (let k = 0; k < m; k++) {
      const i = rows[k];
      g += this.gh[2 * i];
      h += this.gh[2 * i + 1];
    }
    const root: OpenLeaf = { node: 0, start: 0, end: m, depth: 0, g, h, c: m, hist: null, split: null };
    const leaves: OpenLeaf[] = [root];
    if (this.splittable(root, 1)) {
      root.hist = this.take();
      this.build(root.hist, rows, 0, m);
      root.split = this.bestSplit(root);
    }
    let nLeaves = 1;
    while (nLeaves < this.maxLeaves) {
      // Best-first: the open leaf with the largest gain; ties go to the earlier node (deterministic).
      let best: OpenLeaf | null = null;
      for (const leaf of leaves) {
        if (leaf.split && (best === null || leaf.split.gain > best.split!.gain)) best = leaf;
      }
      if (!best) break;
      const s = best.split!;
      const mid = this.partition(rows, best.start, best.end, s.feature, s.bin);
      const lNode = feature.length;
      const rNode = lNode + 1;
      for (let k = 0; k < 2; k++) {
        feature.push(-1);
        threshold.push(0);
        bin.push(0);
        left.push(-1);
        right.push(-1);
      }
      feature[best.node] = s.feature;
      threshold[best.node] = this.binning.thresholds[s.feature][s.bin];
      bin[best.node] = s.bin;
      left[best.node] = lNode;
      right[best.node] = rNode;
      const d = best.depth + 1;
      const l: OpenLeaf = { node: lNode, start: best.start, end: mid, depth: d, g: s.gl, h: s.hl, c: s.cl, hist: null, split: null };
      const r: OpenLeaf = {
        node: rNode,
        start: mid,
        end: best.end,
        depth: d,
        g: best.g - s.gl,
        h: best.h - s.hl,
        c: best.c - s.cl,
        hist: null,
        split: null,
      };
      nLeaves++;
      const parentHist = best.hist!;
      best.hist = null;
      best.split = null;
      leaves.splice(leaves.indexOf(best), 1, l, r);

      const needL = this.splittable(l, nLeaves);
      const needR = this.splittable(r, nLeaves);
      if (needL || needR) {
        const [small, large] = l.c <= r.c ? [l, r] : [r, l];
        const smallHist = this.take();
        this.build(smallHist, rows, small.start, small.end);
        // Histogram subtraction: the larger child costs no pass over its rows.
        if (small === l ? needR : needL) {
          for (let k = 0; k < parentHist.length; k++) parentHist[k] -= smallHist[k];
          large.hist = parentHist;
        } else {
          this.give(parentHist);
        }
        if (small === l ? needL : needR) small.hist = smallHist;
        else this.give(smallHist);
        for (const child of [l, r]) {
          if (child.hist) {
            child.split = this.bestSplit(child);
            if (!child.split) {
              this.give(child.hist);
              child.hist = null;
            }
          }
        }
      } else {
        this.give(parentHist);
      }
    }

    const nodes = feature.length;
    const value = new Float32Array(nodes);
    for (const leaf of leaves) {
      value[leaf.node] = Math.fround((-leaf.g / (leaf.h + p.l2)) * p.learning_rate);
      if (leaf.hist) {
        this.give(leaf.hist);
        leaf.hist = null;
      }
    }
    const tree: Tree = {
      feature: Int32Array.from(feature),
      threshold: Float32Array.from(threshold),
      bin: Uint8Array.from(bin),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value,
    };
    return { tree, leaves };
  }

  private splittable(leaf: OpenLeaf, nLeaves: number): boolean {
    return nLeaves < this.maxLeaves && leaf.depth < this.p.depth && leaf.c >= 2 * this.p.min_samples_leaf;
  }

  private take(): Float64Array {
    // Padding features (up to the row stride) get slots too, so whole words can be scattered.
    return this.pool.pop() ?? new Float64Array(this.rowStride * this.stride);
  }

  private give(h: Float64Array): void {
    this.pool.push(h);
  }

  /** Per feature and bin: sum of gradients, sum of hessians, row count (interleaved). */
  private build(hist: Float64Array, rows: Uint32Array, start: number, end: number): void {
    if (rows !== this.kernel.rows) throw new Error('gbdt: rows must live in the kernel memory');
    this.kernel.build(hist, start, end);
  }

  private bestSplit(leaf: OpenLeaf): Split | null {
    const { f, stride, nbins } = this;
    const { l2, min_samples_leaf: msl } = this.p;
    const hist = leaf.hist!;
    const { g: G, h: H, c: C } = leaf;
    const parentScore = (G * G) / (H + l2);
    let best: Split | null = null;
    let bestGain = MIN_GAIN;
    for (let j = 0; j < f; j++) {
      const o = j * stride;
      let gl = 0;
      let hl = 0;
      let cl = 0;
      const last = nbins[j] - 1;
      for (let b = 0; b < last; b++) {
        const q = o + b * 3;
        gl += hist[q];
        hl += hist[q + 1];
        cl += hist[q + 2];
        if (cl < msl) continue;
        const cr = C - cl;
        if (cr < msl) break;
        const hr = H - hl;
        if (hl < MIN_HESSIAN || hr < MIN_HESSIAN) continue;
        const gr = G - gl;
        const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          best = { gain, feature: j, bin: b, gl, hl, cl };
        }
      }
    }
    return best;
  }

  /** Stable in-place partition of rows[start, end) by bin <= b; returns the first right index. */
  private partition(rows: Uint32Array, start: number, end: number, j: number, b: number): number {
    const { tmp } = this;
    const col = this.columns.subarray(j * this.n, (j + 1) * this.n);
    let w = start;
    let r = 0;
    // Branch-free: every row is written to both sides and only one cursor moves, so a split
    // that sends rows left and right at random costs no mispredicted branches.
    for (let k = start; k < end; k++) {
      const i = rows[k];
      const left = ((b - col[i]) >>> 31) ^ 1;
      rows[w] = i;
      tmp[r] = i;
      w += left;
      r += left ^ 1;
    }
    rows.set(tmp.subarray(0, r), w);
    return w;
  }
}

function transposeCodes(bins: BinnedMatrix): Uint8Array {
  const { codes, stride, n, f } = bins;
  const out = new Uint8Array(n * f);
  const BLOCK = 4096;
  for (let s = 0; s < n; s += BLOCK) {
    const e = Math.min(n, s + BLOCK);
    for (let j = 0; j < f; j++) {
      const o = j * n;
      for (let i = s, k = s * stride + j; i < e; i++, k += stride) out[o + i] = codes[k];
    }
  }
  return out;
}

/** Mean log-loss of a fitted model on labelled rows (for reports and tests). */
export function gbdtLogLoss(model: GbdtModel, m: LabeledMatrix): number {
  const raw = predictGbdtRaw(model, m);
  let s = 0;
  for (let i = 0; i < m.n; i++) s += log1pExp(raw[i]) - m.y[i] * raw[i];
  return s / m.n;
}
