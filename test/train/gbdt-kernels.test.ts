import { describe, expect, it } from 'vitest';
import { gbdtKernels, kernelModule, wasm } from '../../src/train/gbdt-kernels.js';
import { createRng } from '../../src/train/rng.js';

/** Kernels on a fresh memory holding rows, tmp, codes, gh and a histogram, at offsets that are not all multiples of 16. */
function setUp(n: number, f: number, stride: number, maxBins: number) {
  const histFloats = f * maxBins * 3;
  const rowsAt = 8;
  const tmpAt = rowsAt + 4 * n + 4;
  const codesAt = tmpAt + 4 * n;
  const columnAt = codesAt + n * stride + 3;
  const ghAt = (columnAt + n + 7) & ~7;
  const histAt = ghAt + 16 * n + 8;
  const rawAt = histAt + 8 * histFloats;
  const yAt = rawAt + 8 * n;
  const pages = Math.ceil((yAt + n) / 65536);
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  // The validation rows are the training rows here.
  const shape = { f, stride, maxBins, codesAt, ghAt, rowsAt, tmpAt, rawAt, yAt, vrawAt: rawAt, vyAt: yAt };
  const kernels = gbdtKernels(kernelModule(shape), memory);
  const buf = memory.buffer;
  const rng = createRng(n);
  const codes = new Uint8Array(buf, codesAt, n * stride);
  const gh = new Float64Array(buf, ghAt, 2 * n);
  const column = new Uint8Array(buf, columnAt, n);
  for (let i = 0; i < n * stride; i++) codes[i] = rng.nextUint32() % maxBins;
  for (let i = 0; i < 2 * n; i++) gh[i] = rng.next() - 0.5;
  for (let i = 0; i < n; i++) column[i] = rng.nextUint32() % maxBins;
  // A sorted subset of rows, as the tree grower keeps them.
  const rows = new Uint32Array(buf, rowsAt, n);
  let m = 0;
  for (let i = 0; i < n; i++) if (rng.next() < 0.6) rows[m++] = i;
  return {
    kernels,
    rows,
    m,
    codes,
    gh,
    column,
    columnAt,
    rowsAt,
    tmp: new Uint32Array(buf, tmpAt, n),
    hist: new Float64Array(buf, histAt, histFloats),
    histAt,
    raw: new Float64Array(buf, rawAt, n),
    y: new Uint8Array(buf, yAt, n),
  };
}

describe('gbdt kernels', () => {
  it.each([
    [1000, 1, 1, 2],
    [777, 7, 8, 37],
    [2000, 20, 20, 255],
    [500, 3, 5, 4],
  ])('hist gives exactly the sums of a plain loop (%i rows, %i features, stride %i, %i bins)', (n, f, stride, maxBins) => {
    const { kernels, rows, m, codes, gh, rowsAt, hist, histAt } = setUp(n, f, stride, maxBins);
    const start = 5;
    const end = m - 3;
    kernels.hist(rowsAt, start, end, histAt);
    const want = new Float64Array(hist.length);
    for (let k = start; k < end; k++) {
      const i = rows[k];
      for (let j = 0; j < f; j++) {
        const q = (j * maxBins + codes[i * stride + j]) * 3;
        want[q] += gh[2 * i];
        want[q + 1] += gh[2 * i + 1];
        want[q + 2] += 1;
      }
    }
    expect(Array.from(hist)).toEqual(Array.from(want));
    // It adds to what is there, and an empty range adds nothing.
    kernels.hist(rowsAt, start, start, histAt);
    expect(Array.from(hist)).toEqual(Array.from(want));
    // histSums leaves the counts alone.
    hist.fill(0);
    kernels.histSums(rowsAt, start, end, histAt);
    for (let q = 2; q < want.length; q += 3) want[q] = 0;
    expect(Array.from(hist)).toEqual(Array.from(want));
  });

  it('addLeaf adds a value to the scores of the rows at some positions', () => {
    const n = 300;
    const { kernels, rows, m, raw } = setUp(n, 1, 1, 2);
    for (let i = 0; i < n; i++) raw[i] = i / 8;
    kernels.addLeaf(2, m - 1, 0.25);
    const inRange = new Set(rows.subarray(2, m - 1));
    for (let i = 0; i < n; i++) expect(raw[i]).toBe(i / 8 + (inRange.has(i) ? 0.25 : 0));
  });

  it.each([0, 3, 36, 63])('partition is a stable partition by code <= %i', (bin) => {
    const { kernels, rows, m, column, columnAt, tmp } = setUp(3000, 1, 1, 64);
    const start = 7;
    const end = m - 2;
    const before = Array.from(rows.subarray(0, m));
    const lefts = kernels.partition(start, end, columnAt, bin);
    const range = before.slice(start, end);
    const wantLeft = range.filter((i) => column[i] <= bin);
    const wantRight = range.filter((i) => column[i] > bin);
    expect(lefts).toBe(wantLeft.length);
    expect(Array.from(rows.subarray(start, start + lefts))).toEqual(wantLeft);
    expect(Array.from(tmp.subarray(start, start + wantRight.length))).toEqual(wantRight);
    // Rows outside the range are untouched.
    expect(Array.from(rows.subarray(0, start))).toEqual(before.slice(0, start));
    expect(Array.from(rows.subarray(end, m))).toEqual(before.slice(end));
  });

  it('gradients and losses agree with Math.exp to a few units in the last place', () => {
    const n = 5000;
    const { kernels, raw, y, gh } = setUp(n, 1, 1, 2);
    const rng = createRng(3);
    // Scores from tiny to far beyond exp's range, both signs, both labels.
    for (let i = 0; i < n; i++) {
      raw[i] = (rng.next() - 0.5) * (i % 10 === 0 ? 2000 : i % 3 === 0 ? 1e-6 : 40);
      y[i] = rng.next() < 0.5 ? 1 : 0;
    }
    raw[5] = 0;
    gh.fill(-7);
    // An odd number of rows: the last one runs alone.
    const start = 3;
    const end = n - 1;
    const [loss, g, h] = kernels.gradients(start, end);
    let wantLoss = 0;
    // The kernel runs rows in pairs: one sum over the pairs' first rows, one over their second rows.
    const wantG = [0, 0];
    const wantH = [0, 0];
    for (let i = start; i < end; i++) {
      const z = raw[i];
      const p = 1 / (1 + Math.exp(-z));
      const q = 1 / (1 + Math.exp(z));
      const like = Math.max(y[i] === 1 ? p : q, 1e-15);
      wantLoss -= Math.log(like);
      expect(Math.abs(gh[2 * i] - (p - y[i]))).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(p - y[i])));
      expect(Math.abs(gh[2 * i + 1] - Math.max(p * q, 1e-16))).toBeLessThanOrEqual(1e-15 * Math.max(p * q, 1e-16));
      wantG[(i - start) & 1] += gh[2 * i];
      wantH[(i - start) & 1] += gh[2 * i + 1];
    }
    expect(g).toBe(wantG[0] + wantG[1]);
    expect(h).toBe(wantH[0] + wantH[1]);
    expect(Math.abs(loss - wantLoss)).toBeLessThan(1e-12 * wantLoss);
    // Rows outside the range keep their gradients.
    expect([...gh.subarray(0, 2 * start), ...gh.subarray(2 * end)]).toEqual(Array(2 * (start + n - end)).fill(-7));
    expect(kernels.validLoss(start, end)).toBe(loss);
    expect(kernels.validLoss(7, 7)).toBeCloseTo(0, 15);
  });
});
