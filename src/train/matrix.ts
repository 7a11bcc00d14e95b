// The numeric input every trainer and scorer takes: a dense row-major float32 matrix plus 0/1
// labels. Typed arrays only, so a million rows cost 4·n·f + n bytes and no per-row objects.
import { MlopsError } from '../errors.js';

/** Dense row-major matrix: row i, column j is `X[i * f + j]`. */
export interface Matrix {
  X: Float32Array;
  n: number;
  f: number;
}

/** A matrix with one 0/1 label per row (1 = success). */
export interface LabeledMatrix extends Matrix {
  y: Uint8Array;
}

/** Throws when the matrix does not hold n·f values or the labels are not n zeros and ones. */
export function checkShape(m: Matrix | LabeledMatrix, split: string): void {
  if (!Number.isInteger(m.n) || !Number.isInteger(m.f) || m.n < 0 || m.f < 1) {
    throw new MlopsError('INVALID_ARGUMENT', `The ${split} matrix has an invalid shape ${m.n} x ${m.f}`, {
      hint: 'Pass { X, n, f } with n >= 0 rows and f >= 1 features',
    });
  }
  if (m.X.length !== m.n * m.f) {
    throw new MlopsError('INVALID_ARGUMENT', `The ${split} matrix holds ${m.X.length} values, expected ${m.n} x ${m.f} = ${m.n * m.f}`, {
      hint: 'X is row-major: X[i * f + j] is row i, feature j',
    });
  }
  if ('y' in m) {
    if (m.y.length !== m.n) {
      throw new MlopsError('INVALID_ARGUMENT', `The ${split} split has ${m.y.length} labels for ${m.n} rows`, {
        hint: 'Pass one label per row',
      });
    }
    for (let i = 0; i < m.n; i++) {
      if (m.y[i] > 1) {
        throw new MlopsError('INVALID_ARGUMENT', `The ${split} split has label ${m.y[i]} at row ${i}; labels are 0 or 1`, {
          hint: 'The label is 1 when the outcome succeeded and 0 otherwise',
        });
      }
    }
  }
}

/** Throws TRAINING_DATA_NOT_FINITE naming the first NaN/Infinity cell (row and feature). */
export function checkFinite(m: Matrix, split: string, featureNames?: readonly string[]): void {
  const { X, f } = m;
  for (let k = 0; k < X.length; k++) {
    const v = X[k];
    // v - v is NaN exactly when v is NaN or ±Infinity: one cheap test per cell.
    if (v - v !== 0) {
      const row = Math.floor(k / f);
      const col = k % f;
      const name = featureNames?.[col];
      throw new MlopsError(
        'TRAINING_DATA_NOT_FINITE',
        `The ${split} split has ${String(v)} at row ${row}, feature ${col}${name === undefined ? '' : ` (${name})`}`,
        {
          hint: 'Every feature must be a finite number: fix the raw records or give the feature a transform with a default for missing values',
          data: { split, row, column: col, feature: name ?? null, value: String(v) },
        },
      );
    }
  }
}

/** Positives in the labels. */
export function countPositives(y: Uint8Array): number {
  let p = 0;
  for (let i = 0; i < y.length; i++) p += y[i];
  return p;
}

/**
 * The checks a training set must pass before any trainer runs: shape, at least one row, both
 * classes present, every value finite. Validation and test splits are checked by `checkSplit`.
 */
export function checkTrainingData(train: LabeledMatrix, featureNames?: readonly string[]): void {
  checkShape(train, 'training');
  if (train.n === 0) {
    throw new MlopsError('TRAINING_DATA_EMPTY', 'The training split has no rows', {
      hint: 'Collect outcomes and lock a dataset first (mlops data collect); about 80% of the rows land in the training split',
    });
  }
  const pos = countPositives(train.y);
  if (pos === 0 || pos === train.n) {
    const only = pos === 0 ? 'failure' : 'success';
    throw new MlopsError('TRAINING_DATA_SINGLE_CLASS', `The training split has ${train.n} rows, all labelled ${only}`, {
      hint: 'A binary model needs both successful and unsuccessful outcomes; collect more varied outcomes before training',
      data: { rows: train.n, positives: pos },
    });
  }
  checkFinite(train, 'training', featureNames);
}

/** Shape, feature count and finiteness of a validation or test split. */
export function checkSplit(m: LabeledMatrix, split: string, f: number, featureNames?: readonly string[]): void {
  checkShape(m, split);
  if (m.f !== f) {
    throw new MlopsError('ONNX_CONTRACT_MISMATCH', `The ${split} split has ${m.f} features, the training split ${f}`, {
      hint: 'Featurize every split with the same schema and fitted state',
    });
  }
  checkFinite(m, split, featureNames);
}

/** Rows `rows` of a labelled matrix, copied (used for row subsets such as splits in tests and benches). */
export function takeRows(m: LabeledMatrix, rows: ArrayLike<number>): LabeledMatrix {
  const n = rows.length;
  const X = new Float32Array(n * m.f);
  const y = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = rows[k];
    X.set(m.X.subarray(i * m.f, (i + 1) * m.f), k * m.f);
    y[k] = m.y[i];
  }
  return { X, n, f: m.f, y };
}
