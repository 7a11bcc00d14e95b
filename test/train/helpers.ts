// Generated matrices with a known signal for the trainer tests (seeded, so every run sees the same rows).
import type { LabeledMatrix } from '../../src/train/matrix.js';
import { createRng } from '../../src/train/rng.js';

function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** y ~ Bernoulli(sigmoid(logit(x))) with x standard normal columns. */
export function makeData(n: number, f: number, seed: number, logit: (x: Float32Array, o: number) => number): LabeledMatrix {
  const rng = createRng(seed);
  const u = (): number => rng.next();
  const X = new Float32Array(n * f);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) X[o + j] = normal(u);
    y[i] = u() < 1 / (1 + Math.exp(-logit(X, o))) ? 1 : 0;
  }
  return { X, n, f, y };
}

/** Linear signal on the first two columns, the rest noise. */
export function linearData(n: number, seed = 1, f = 5): LabeledMatrix {
  return makeData(n, f, seed, (x, o) => 0.3 + 1.5 * x[o] - 1.0 * x[o + 1]);
}

/** XOR of the signs of columns 0 and 1: no linear signal at all, trees find it. */
export function xorData(n: number, seed = 2, f = 4): LabeledMatrix {
  return makeData(n, f, seed, (x, o) => (x[o] * x[o + 1] > 0 ? 2.5 : -2.5));
}

export function names(f: number): string[] {
  return Array.from({ length: f }, (_, j) => `feature_${j}`);
}

/** Rows [start, end) as a new matrix. */
export function rows(m: LabeledMatrix, start: number, end: number): LabeledMatrix {
  return { X: m.X.slice(start * m.f, end * m.f), y: m.y.slice(start, end), n: end - start, f: m.f };
}

/** 80/10/10 by row position (the data are i.i.d., so position is as good as a hash). */
export function split(m: LabeledMatrix): { train: LabeledMatrix; valid: LabeledMatrix; test: LabeledMatrix } {
  const a = Math.floor(m.n * 0.8);
  const b = Math.floor(m.n * 0.9);
  return { train: rows(m, 0, a), valid: rows(m, a, b), test: rows(m, b, m.n) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
