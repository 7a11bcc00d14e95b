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
      const k = createHistKernel(n, stride, maxBins, { threads: 1 });
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

  it('gives the same sums with a helper thread as without, and falls back to one thread for small inputs', async () => {
    const n = 60_000;
    const one = createHistKernel(n, 8, 64, { threads: 1 });
    const two = createHistKernel(n, 8, 64, { threads: 2 });
    try {
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      const rng = createRng(9);
      for (let i = 0; i < n * 8; i++) one.codes[i] = two.codes[i] = rng.nextUint32() % 64;
      for (let i = 0; i < 2 * n; i++) one.gh[i] = two.gh[i] = rng.next() - 0.5;
      for (let i = 0; i < n; i++) one.rows[i] = two.rows[i] = i;
      const a = new Float64Array(8 * 64 * 3);
      const b = new Float64Array(8 * 64 * 3);
      for (const [start, end] of [
        [0, n],
        [100, 40_000],
        [10, 200],
      ]) {
        one.build(a, start, end);
        two.build(b, start, end);
        expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
        let count = 0;
        for (let k = 2; k < a.length; k += 3) count += a[k];
        expect(count).toBe(8 * (end - start));
      }
    } finally {
      await one.close();
      await two.close();
    }
    const small = createHistKernel(1000, 4, 8, { threads: 2 });
    expect(small.threads).toBe(1);
    await small.close();
  });
});
