// Histogram gradient-boosted trees for binary log-loss (the `gbdt` trainer). Features are binned
// once into bytes (quantile thresholds, float32-exact), trees grow best-first under a depth and a
// leaf limit, the smaller child's histogram is built and the larger one is parent minus smaller,
// and boosting stops early when the validation loss has not improved for a number of rounds.
// Everything is typed arrays; the only randomness (binning sample, row subsampling) comes from the seed.
// The per-row work runs in WebAssembly on this thread and a helper thread (gbdt-threads.ts), and
// the model is the same as with this thread alone.
import type { LabeledMatrix, Matrix } from './matrix.js';
import { checkSplit, checkTrainingData, countPositives } from './matrix.js';
import { applyBinning, binStride, fitBinning, type Binning } from './binning.js';
import { createRng } from './rng.js';
import { createGbdtThreads, HelperLostError, PARALLEL_MIN_ROWS, type GbdtThreads } from './gbdt-threads.js';
import { lowerBound, OUTS, TASK_CLOSE, TASK_OPEN, TASK_PREPARE, TASK_SPLIT, type Views } from './gbdt-tasks.js';
import { meanLogLossRaw, sigmoid } from './loss.js';
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
  /** Threads training: 1 or 2 (default 2 on a multi-core machine). The model is the same either way. */
  threads?: number;
}

/** Smallest hessian sum a child may have (sklearn's min_hessian_to_split). */
const MIN_HESSIAN = 1e-3;
/** A split must improve the objective by more than this. */
const MIN_GAIN = 1e-10;

export function trainGbdt({ train, valid, params, seed = 0, featureNames, onProgress, threads }: TrainGbdtOptions): GbdtModel {
  const p = resolveGbdtParams(params as Record<string, unknown> | undefined);
  checkTrainingData(train, featureNames);
  if (valid != null) checkSplit(valid, 'validation', train.f, featureNames);
  const binning = fitBinning(train, p.max_bins, seed);
  const hasValid = valid != null && valid.n > 0;
  // Rounds are reported in increasing order; the filter only matters after a lost helper (below).
  let reported = 0;
  const input: BoostInput = {
    train,
    valid: hasValid ? valid : null,
    p,
    seed,
    binning,
    maxLeaves: p.max_leaves ?? 2 ** Math.min(p.depth, 20),
    onProgress:
      onProgress &&
      ((progress) => {
        if (progress.iteration <= reported) return;
        reported = progress.iteration;
        onProgress(progress);
      }),
  };
  try {
    return boost(input, threads);
  } catch (err) {
    if (!(err instanceof HelperLostError)) throw err;
    // The helper thread hung in a task: train again on this thread alone, in fresh memory. The
    // model and the losses come out the same, so the rounds already reported are not repeated.
    return boost(input, 1);
  }
}

interface BoostInput {
  train: LabeledMatrix;
  valid: LabeledMatrix | null;
  p: GbdtParams;
  seed: number;
  binning: Binning;
  maxLeaves: number;
  onProgress?: ProgressCallback;
}

/** The boosting rounds, with the per-row work split between this thread and a helper. */
function boost(input: BoostInput, threads: number | undefined): GbdtModel {
  const { train, valid, p, seed, binning, maxLeaves, onProgress } = input;
  const { n, f, y } = train;
  const nValid = valid?.n ?? 0;
  // A leaf holds at least min_samples_leaf rows (the root excepted).
  const leavesCap = Math.min(maxLeaves, Math.max(1, Math.floor(n / p.min_samples_leaf)));
  const ts = createGbdtThreads({ n, nValid, f, stride: binStride(f), maxBins: binning.maxBins, maxLeaves: leavesCap }, { threads });
  try {
    // The codes, labels and scores live in the memory the two threads share.
    const v = ts.views;
    applyBinning(train, binning, v.codes);
    v.y.set(y);
    if (valid) {
      applyBinning(valid, binning, v.vcodes);
      v.vy.set(valid.y);
    }
    const prior = countPositives(y) / n;
    const baseScore = Math.fround(Math.log(prior / (1 - prior)));
    v.raw.fill(baseScore);
    v.vraw.fill(baseScore);
    const grower = new TreeGrower(ts, binning, p, maxLeaves);
    const rng = createRng(seed ^ 0x5bd1e995);
    // Rows [0, half) and [half, n) are the two halves of every per-row task; so are the validation rows.
    const half = n >>> 1;
    const vhalf = nValid >>> 1;
    const out = v.out;
    ts.run(TASK_PREPARE, [0, half], [half, n], true);

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
      // The tree's rows: with every row used, the round's first task resets rows to the identity.
      const rows = v.rows;
      let m = n;
      const whole = p.subsample < 1 ? 0 : 1;
      if (!whole) {
        m = 0;
        for (let i = 0; i < n; i++) if (rng.next() < p.subsample) rows[m++] = i;
        if (m === 0) rows[m++] = Math.floor(rng.next() * n);
      }
      // Gradients of each half's rows; the root's sums and histogram over each half's positions
      // (rows are sorted, so a half's positions hold exactly its own rows).
      const split = whole ? half : lowerBound(rows, 0, m, half);
      const build = grower.splittableRoot(m) ? 1 : 0;
      ts.run(TASK_OPEN, [0, half, 0, split, whole, build], [half, n, split, m, whole, build], true);
      // The gradient pass also yields the loss of the model so far: the previous round's train loss.
      const loss = (out[0] + out[OUTS]) / n;
      if (t > 0) report(t, loss, pendingValid);
      const g = out[1] + out[OUTS + 1];
      const h = out[2] + out[OUTS + 2];

      const { tree, leaves } = grower.grow(m, g, h);
      trees.push(tree);

      // Add the tree to the scores. When every row is used, each sits in exactly one leaf's range
      // of positions: leaf values are added without walking the tree.
      v.feature.set(tree.feature);
      v.bin.set(tree.bin);
      v.left.set(tree.left);
      v.right.set(tree.right);
      v.value.set(tree.value);
      let nLeaves = -1;
      if (m === n) {
        leaves.forEach((leaf, k) => v.leaves.set([leaf.start, leaf.end, tree.value[leaf.node]], 3 * k));
        nLeaves = leaves.length;
      }
      ts.run(TASK_CLOSE, [0, half, 0, vhalf, nLeaves], [half, n, vhalf, nValid, nLeaves], true);

      if (valid) {
        const vl = (out[0] + out[OUTS]) / nValid;
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
    // The final model's train loss, from the gradient pass the next round would start with.
    ts.run(TASK_OPEN, [0, half, 0, 0, 0, 0], [half, n, 0, 0, 0, 0], true);
    report(trees.length, (out[0] + out[OUTS]) / n, pendingValid);

    const rounds = trees.length;
    const kept = p.early_stopping_rounds > 0 && valid ? Math.max(1, bestRounds) : rounds;
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
  } finally {
    void ts.close();
  }
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

/** Grows one tree at a time, reusing a pool of histograms across rounds. */
class TreeGrower {
  private readonly nbins: Int32Array;
  /** Histogram stride of one feature (3 slots per bin). */
  private readonly stride: number;
  private readonly histFloats: number;
  private readonly pool: Float64Array[] = [];
  private readonly v: Views;
  private readonly f: number;

  constructor(
    private readonly ts: GbdtThreads,
    private readonly binning: Binning,
    private readonly p: GbdtParams,
    private readonly maxLeaves: number,
  ) {
    this.v = ts.views;
    this.f = this.v.layout.f;
    this.nbins = Int32Array.from(binning.thresholds, (t) => t.length + 1);
    this.stride = binning.maxBins * 3;
    this.histFloats = this.v.layout.histFloats;
  }

  /** Whether a root of m rows may be split (then the round's first task builds its histogram). */
  splittableRoot(m: number): boolean {
    return this.splittable({ depth: 0, c: m }, 1);
  }

  /** A tree over rows[0, m) with gradient sums g and h; a splittable root's partial histograms are in the threads' buffers. */
  grow(m: number, g: number, h: number): { tree: Tree; leaves: OpenLeaf[] } {
    const { p } = this;
    const feature: number[] = [-1];
    const threshold: number[] = [0];
    const bin: number[] = [0];
    const left: number[] = [-1];
    const right: number[] = [-1];

    const root: OpenLeaf = { node: 0, start: 0, end: m, depth: 0, g, h, c: m, hist: null, split: null };
    const leaves: OpenLeaf[] = [root];
    if (this.splittable(root, 1)) {
      root.hist = this.sumHalves(this.take());
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
      const mid = best.start + s.cl;
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

      this.split(best.start, best.end, s, parentHist, l, r, nLeaves);
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

  private splittable(leaf: Pick<OpenLeaf, 'depth' | 'c'>, nLeaves: number): boolean {
    return nLeaves < this.maxLeaves && leaf.depth < this.p.depth && leaf.c >= 2 * this.p.min_samples_leaf;
  }

  private take(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.histFloats);
  }

  private give(h: Float64Array): void {
    this.pool.push(h);
  }

  /** The histogram of a node: its two partial histograms added in a fixed order. */
  private sumHalves(out: Float64Array): Float64Array {
    const [a, b] = this.v.hist;
    for (let k = 0; k < out.length; k++) out[k] = a[k] + b[k];
    return out;
  }

  /**
   * Splits rows[start, end) into the children's ranges, builds the histograms of the children that
   * may split further and finds their best splits. The smaller child's histogram is built with the
   * partition; the larger one is parent minus smaller.
   *
   * The partition is stable: each half of the range is partitioned on its own (in parallel when
   * large), then the pieces are put in order: lefts of the first half, lefts of the second, rights
   * of the first, rights of the second (already in place). That is the order a single stable
   * partition gives, and each partial histogram covers one half's piece.
   */
  private split(start: number, end: number, s: Split, parentHist: Float64Array, l: OpenLeaf, r: OpenLeaf, nLeaves: number): void {
    const needL = this.splittable(l, nLeaves);
    const needR = this.splittable(r, nLeaves);
    const [small, large] = l.c <= r.c ? [l, r] : [r, l];
    const side = !needL && !needR ? 0 : small === l ? 1 : 2;
    const half = start + ((end - start) >>> 1);
    const { rows, tmp, out } = this.v;
    this.ts.run(TASK_SPLIT, [start, half, s.feature, s.bin, side], [half, end, s.feature, s.bin, side], end - start >= PARALLEL_MIN_ROWS);
    const l0 = out[0];
    const l1 = out[OUTS];
    rows.copyWithin(start + l0, half, half + l1);
    rows.set(tmp.subarray(start, half - l0), start + l0 + l1);

    if (side === 0) {
      this.give(parentHist);
      return;
    }
    const smallHist = this.sumHalves(this.take());
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
}

/** Mean log-loss of a fitted model on labelled rows (for reports and tests). */
export function gbdtLogLoss(model: GbdtModel, m: LabeledMatrix): number {
  return meanLogLossRaw(predictGbdtRaw(model, m), m.y);
}
