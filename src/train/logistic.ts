// L2-regularised logistic regression (the `logistic` trainer), fitted by Newton's method (IRLS)
// on standardised features with a backtracking step. Standardisation (offset, scale) is part of
// the model and exported as an ONNX Scaler, so the coefficients stay well-conditioned and large
// feature means do not cost float32 precision at scoring time.
import { MlopsError } from '../errors.js';
import type { LabeledMatrix, Matrix } from './matrix.js';
import { checkSplit, checkTrainingData, countPositives } from './matrix.js';
import { log1pExp, sigmoid } from './loss.js';
import { resolveParams, type ParamSpec } from './params.js';
import type { ProgressCallback } from './progress.js';

export interface LogisticParams {
  /**
   * L2 penalty on the standardised coefficients: the objective is the summed log-loss plus
   * l2/2·||w||² (the intercept is not penalised), i.e. sklearn's C = 1/l2 on standardised data.
   */
  l2: number;
  /** Newton iterations at most. */
  max_iter: number;
  /** Converged when the largest coefficient step (standardised units) is below tol. */
  tol: number;
}

export const LOGISTIC_PARAM_SPECS: Record<keyof LogisticParams, ParamSpec> = {
  l2: { default: 1, min: 0 },
  max_iter: { default: 100, min: 1, max: 10_000, integer: true },
  tol: { default: 1e-6, min: 0, minExclusive: true },
};

export function resolveLogisticParams(given?: Record<string, unknown>): LogisticParams {
  return resolveParams<LogisticParams>('logistic', LOGISTIC_PARAM_SPECS, given);
}

export interface LogisticModel {
  kind: 'logistic';
  nFeatures: number;
  /** Standardisation z = (x - offset) * scale, float32-exact (exported as a Scaler). */
  offset: Float32Array;
  scale: Float32Array;
  /** Coefficients of the standardised features and the intercept, float32-exact. */
  coef: Float32Array;
  intercept: number;
  params: LogisticParams;
  iterations: number;
  converged: boolean;
  history: { trainLoss: number[]; validLoss: (number | null)[] };
}

export interface TrainLogisticOptions {
  train: LabeledMatrix;
  valid?: LabeledMatrix | null;
  params?: Partial<LogisticParams> | Record<string, unknown>;
  /** Accepted for a uniform trainer interface; Newton's method uses no randomness. */
  seed?: number;
  featureNames?: readonly string[];
  onProgress?: ProgressCallback;
}

/** Rows the Hessian is estimated on (evenly spaced); below this every row is used. */
const HESSIAN_ROWS = 16_384;
/** Rows per block: the block's standardised columns stay in cache while the Hessian accumulates. */
const BLOCK = 2048;

export function trainLogistic({ train, valid, params, featureNames, onProgress }: TrainLogisticOptions): LogisticModel {
  const p = resolveLogisticParams(params as Record<string, unknown> | undefined);
  checkTrainingData(train, featureNames);
  if (valid != null) checkSplit(valid, 'validation', train.f, featureNames);
  const { n, f, X, y } = train;
  const { offset, scale } = standardisation(train);
  const d = f + 1; // coefficients then the intercept

  const theta = new Float64Array(d);
  const prior = countPositives(y) / n;
  theta[f] = Math.log(prior / (1 - prior));

  let grad = new Float64Array(d);
  const hess = new Float64Array(d * d);
  let gradNext = new Float64Array(d);
  const prob: Problem = {
    X,
    y,
    n,
    f,
    offset,
    scale,
    l2: p.l2,
    hStride: Math.max(1, Math.ceil(n / HESSIAN_ROWS)),
    wr: new Float64Array(f),
    gr: new Float64Array(f),
    zb: new Float64Array(d * BLOCK),
    wb: new Float64Array(BLOCK),
    wz: new Float64Array(BLOCK),
  };
  const pass = (th: Float64Array, g: Float64Array): number => objectiveAndGradient(prob, th, g);
  const hessian = (th: Float64Array, H: Float64Array): void => hessianAt(prob, th, H);

  const validLoss = (th: Float64Array): number | null => (valid && valid.n > 0 ? meanLoss(valid, offset, scale, th) : null);

  const history = { trainLoss: [] as number[], validLoss: [] as (number | null)[] };
  let obj = pass(theta, grad);
  hessian(theta, hess);
  let iterations = 0;
  let converged = false;
  const step = new Float64Array(d);
  const next = new Float64Array(d);
  // Newton steps larger than this recompute the Hessian at the new point; smaller ones keep it.
  const FRESH_HESSIAN_STEP = 1e-2;
  // Successive steps shrinking by less than this factor mean the Hessian estimate is too rough.
  const SLOW_RATIO = 0.25;
  let prevTaken = Infinity;
  while (iterations < p.max_iter) {
    solveNewton(hess, grad, d, step);
    let stepMax = 0;
    for (let j = 0; j < d; j++) stepMax = Math.max(stepMax, Math.abs(step[j]));
    // Backtracking: halve the step until the objective does not increase (rarely needed).
    let t = 1;
    let nextObj = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < d; j++) next[j] = theta[j] - t * step[j];
      nextObj = pass(next, gradNext);
      if (nextObj <= obj + 1e-12 * Math.abs(obj)) break;
      t /= 2;
    }
    iterations++;
    const accepted = nextObj <= obj + 1e-12 * Math.abs(obj);
    if (accepted) {
      theta.set(next);
      obj = nextObj;
      [grad, gradNext] = [gradNext, grad];
      const taken = t * stepMax;
      if (prob.hStride > 1 && iterations >= 3 && taken > SLOW_RATIO * prevTaken) {
        // The subset Hessian leaves convergence linear and slow (an ill-conditioned direction,
        // e.g. one-hot groups that sum to the intercept): use every row from here on.
        prob.hStride = 1;
        hessian(theta, hess);
      } else if (taken > FRESH_HESSIAN_STEP) {
        hessian(theta, hess);
      }
      prevTaken = taken;
    }
    const trainLoss = meanLossFromObjective(obj, theta, f, p.l2, n);
    const vl = validLoss(theta);
    history.trainLoss.push(trainLoss);
    history.validLoss.push(vl);
    onProgress?.({ iteration: iterations, total: p.max_iter, trainLoss, validLoss: vl });
    if (!accepted || t * stepMax < p.tol) {
      converged = t * stepMax < p.tol || !accepted;
      break;
    }
  }

  const coef = new Float32Array(f);
  for (let j = 0; j < f; j++) coef[j] = theta[j];
  return {
    kind: 'logistic',
    nFeatures: f,
    offset,
    scale,
    coef,
    intercept: Math.fround(theta[f]),
    params: p,
    iterations,
    converged,
    history,
  };
}

/** The arrays one fit works on (module-level functions over it optimise better than closures). */
interface Problem {
  X: Float32Array;
  y: Uint8Array;
  n: number;
  f: number;
  offset: Float32Array;
  scale: Float32Array;
  l2: number;
  /** The Hessian is estimated on every hStride-th row. */
  hStride: number;
  /** Scratch: raw-space coefficients and gradient. */
  wr: Float64Array;
  gr: Float64Array;
  /** Scratch: a block of standardised rows (column-major, last column 1), weights and scores. */
  zb: Float64Array;
  wb: Float64Array;
  wz: Float64Array;
}

/**
 * Objective and gradient at th, one pass over every row. The pass runs in raw feature space
 * (coefficients scaled, intercept shifted by the offsets) so each row costs 2f multiply-adds
 * straight from X; the gradient is then mapped back to standardised coordinates. In float64 the
 * shift loses nothing that matters for offsets up to ~1e8 standard deviations.
 */
function objectiveAndGradient(P: Problem, th: Float64Array, g: Float64Array): number {
  const { X, y, n, f, offset, scale, wr, gr, l2 } = P;
  let b = th[f];
  for (let j = 0; j < f; j++) {
    wr[j] = th[j] * scale[j];
    b -= wr[j] * offset[j];
  }
  gr.fill(0);
  let rsum = 0;
  let loss = 0;
  for (let i = 0, k = 0; i < n; i++, k += f) {
    let eta = b;
    for (let j = 0; j < f; j++) eta += wr[j] * X[k + j];
    const yi = y[i];
    // One exp serves both the loss and the probability, and never overflows.
    const e = Math.exp(-Math.abs(eta));
    loss += (eta > 0 ? eta : 0) + Math.log1p(e) - yi * eta;
    const r = (eta >= 0 ? 1 / (1 + e) : e / (1 + e)) - yi;
    rsum += r;
    for (let j = 0; j < f; j++) gr[j] += r * X[k + j];
  }
  let pen = 0;
  for (let j = 0; j < f; j++) {
    pen += th[j] * th[j];
    g[j] = scale[j] * (gr[j] - offset[j] * rsum) + l2 * th[j];
  }
  g[f] = rsum;
  return loss + 0.5 * l2 * pen;
}

/**
 * Hessian of the objective at th. It costs d²/2 multiply-adds per row against about 2d for the
 * gradient, so it is estimated on an evenly spaced subset of at most HESSIAN_ROWS rows (scaled to
 * n) while the gradient and the objective use every row: the fixed point is the exact optimum,
 * and the curvature estimate only sets how fast it is reached.
 */
function hessianAt(P: Problem, th: Float64Array, H: Float64Array): void {
  const { X, n, f, offset, scale, l2, hStride, zb, wb, wz } = P;
  const d = f + 1;
  const hRows = Math.ceil(n / hStride);
  H.fill(0);
  for (let s = 0; s < hRows; s += BLOCK) {
    const m = Math.min(BLOCK, hRows - s);
    const first = s * hStride;
    for (let j = 0; j < f; j++) {
      const o = offset[j];
      const sc = scale[j];
      const col = j * BLOCK;
      for (let r = 0, k = first * f + j; r < m; r++, k += hStride * f) zb[col + r] = (X[k] - o) * sc;
    }
    zb.fill(1, f * BLOCK, f * BLOCK + m);
    wz.fill(th[f], 0, m);
    for (let j = 0; j < f; j++) {
      const c = th[j];
      const col = j * BLOCK;
      for (let r = 0; r < m; r++) wz[r] += c * zb[col + r];
    }
    for (let r = 0; r < m; r++) {
      const e = Math.exp(-Math.abs(wz[r]));
      wb[r] = e / ((1 + e) * (1 + e));
    }
    // Upper triangle of Zᵀ W Z: column a weighted once, then dotted with every column b >= a.
    for (let a = 0; a < d; a++) {
      const ca = a * BLOCK;
      for (let r = 0; r < m; r++) wz[r] = wb[r] * zb[ca + r];
      for (let b = a; b < d; b++) {
        const cb = b * BLOCK;
        let acc = 0;
        for (let r = 0; r < m; r++) acc += wz[r] * zb[cb + r];
        H[a * d + b] += acc;
      }
    }
  }
  const w = n / hRows;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) H[a * d + b] *= w;
    if (a < f) H[a * d + a] += l2;
    for (let b = 0; b < a; b++) H[a * d + b] = H[b * d + a];
  }
}

/** Probabilities of float rows, with the model's float32 parameters (as exported). */
export function predictLogistic(model: LogisticModel, m: Matrix): Float64Array {
  const raw = predictLogisticRaw(model, m);
  for (let i = 0; i < raw.length; i++) raw[i] = sigmoid(raw[i]);
  return raw;
}

export function predictLogisticRaw(model: LogisticModel, m: Matrix): Float64Array {
  const { X, n, f } = m;
  if (f !== model.nFeatures) {
    throw new MlopsError('ONNX_CONTRACT_MISMATCH', `The model takes ${model.nFeatures} features, the matrix has ${f}`, {
      hint: 'Featurize with the schema the model was trained on',
    });
  }
  const { offset, scale, coef, intercept } = model;
  const out = new Float64Array(n);
  for (let i = 0, k = 0; i < n; i++) {
    let eta = intercept;
    for (let j = 0; j < f; j++, k++) eta += coef[j] * ((X[k] - offset[j]) * scale[j]);
    out[i] = eta;
  }
  return out;
}

/** Mean and 1/std of each column (float32-exact); a constant column gets scale 0 and drops out. */
function standardisation(m: Matrix): { offset: Float32Array; scale: Float32Array } {
  const { X, n, f } = m;
  const mean = new Float64Array(f);
  for (let i = 0, k = 0; i < n; i++) for (let j = 0; j < f; j++, k++) mean[j] += X[k];
  for (let j = 0; j < f; j++) mean[j] /= n;
  const offset = Float32Array.from(mean);
  const ss = new Float64Array(f);
  for (let i = 0, k = 0; i < n; i++) {
    for (let j = 0; j < f; j++, k++) {
      const v = X[k] - offset[j];
      ss[j] += v * v;
    }
  }
  const scale = new Float32Array(f);
  for (let j = 0; j < f; j++) {
    const sd = Math.sqrt(ss[j] / n);
    scale[j] = sd > 1e-12 * Math.max(1, Math.abs(mean[j])) ? 1 / sd : 0;
  }
  return { offset, scale };
}

function meanLoss(m: LabeledMatrix, offset: Float32Array, scale: Float32Array, th: Float64Array): number {
  const { X, n, f, y } = m;
  let loss = 0;
  for (let i = 0, k = 0; i < n; i++) {
    let eta = th[f];
    for (let j = 0; j < f; j++, k++) eta += th[j] * ((X[k] - offset[j]) * scale[j]);
    loss += log1pExp(eta) - y[i] * eta;
  }
  return loss / n;
}

function meanLossFromObjective(obj: number, th: Float64Array, f: number, l2: number, n: number): number {
  let pen = 0;
  for (let j = 0; j < f; j++) pen += th[j] * th[j];
  return (obj - 0.5 * l2 * pen) / n;
}

/** Solves H·step = g by Cholesky; a tiny ridge is added when H is not positive definite (collinear columns, l2 = 0). */
function solveNewton(H: Float64Array, g: Float64Array, d: number, out: Float64Array): void {
  let trace = 0;
  for (let j = 0; j < d; j++) trace += H[j * d + j];
  for (let attempt = 0, ridge = 0; attempt < 12; attempt++, ridge = ridge === 0 ? 1e-10 * (trace / d + 1) : ridge * 100) {
    const L = cholesky(H, d, ridge);
    if (L) {
      // Forward then back substitution.
      const z = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = g[i];
        for (let k = 0; k < i; k++) s -= L[i * d + k] * z[k];
        z[i] = s / L[i * d + i];
      }
      for (let i = d - 1; i >= 0; i--) {
        let s = z[i];
        for (let k = i + 1; k < d; k++) s -= L[k * d + i] * out[k];
        out[i] = s / L[i * d + i];
      }
      return;
    }
  }
  // Never positive definite: fall back to a small gradient step.
  for (let i = 0; i < d; i++) out[i] = g[i] / (trace / d + 1);
}

function cholesky(H: Float64Array, d: number, ridge: number): Float64Array | null {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = H[i * d + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * d + i] = Math.sqrt(s);
      } else {
        L[i * d + j] = s / L[j * d + j];
      }
    }
  }
  return L;
}
