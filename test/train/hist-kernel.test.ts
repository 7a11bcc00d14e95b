import { describe, expect, it } from 'vitest';
import { createHistKernel } from '../../src/train/hist-kernel.js';
import { createRng } from '../../src/train/rng.js';

describe('histogram kernel', () => {
  it('gives exactly the sums of a plain loop, for any row subset and feature count', () => {
    for (const [n, stride, maxBins] of [
      [1000, 4, 2],
      [777, 8, 37],
      [2000, 20, 255],
    ]) {
      const rng = createRng(n);
      const k = createHistKernel(n, stride, maxBins);
      for (let i = 0; i < n * stride; i++) k.codes[i] = rng.nextUint32() % maxBins;
      for (let i = 0; i < 2 * n; i++) k.gh[i] = rng.next() - 0.5;
      // A sorted subset of rows, as the tree grower keeps them.
      let m = 0;
      for (let i = 0; i < n; i++) if (rng.next() < 0.6) k.rows[m++] = i;
      const start = 5;
      const end = m - 3;
      const got = new Float64Array(stride * maxBins * 3);
      k.build(got, start, end);
      const want = new Float64Array(stride * maxBins * 3);
      for (let r = start; r < end; r++) {
        const i = k.rows[r];
        for (let j = 0; j < stride; j++) {
          const q = (j * maxBins + k.codes[i * stride + j]) * 3;
          want[q] += k.gh[2 * i];
          want[q + 1] += k.gh[2 * i + 1];
          want[q + 2] += 1;
        }
      }
      expect(Array.from(got)).toEqual(Array.from(want));
      // An empty range clears the histogram.
      k.build(got, 0, 0);
      expect(got.every((v) => v === 0)).toBe(true);
    }
  });
});
