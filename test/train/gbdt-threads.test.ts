import { describe, expect, it, vi } from 'vitest';
import type { WorkerOptions } from 'node:worker_threads';
import { C_DONE, C_OFFER, createGbdtThreads, HelperLostError, type GbdtThreads } from '../../src/train/gbdt-threads.js';
import { TASK_CLOSE, TASK_OPEN, TASK_PREPARE, TASK_SPLIT } from '../../src/train/gbdt-tasks.js';
import { trainGbdt } from '../../src/train/gbdt.js';
import type { TrainProgress } from '../../src/train/progress.js';
import { createRng } from '../../src/train/rng.js';
import { linearData, split } from './helpers.js';

// The helper thread can be swapped for one that never starts or one that takes a half and hangs,
// and a two-thread runner for one that reports its helper lost after a number of tasks. The wait
// for a half the helper has started is cut to 300 ms.
const helper = vi.hoisted(() => ({ mode: 'real' as 'real' | 'dead' | 'hang', lostAfter: null as number | null, created: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  // Takes the first half offered, then never finishes it.
  const hang = (): string => `
    const control = new Int32Array(require('node:worker_threads').workerData.control);
    for (;;) {
      const t = Atomics.load(control, ${C_OFFER});
      if (t > 0 && Atomics.compareExchange(control, ${C_OFFER}, t, 0) === t) break;
    }
    for (;;) Atomics.wait(control, ${C_DONE}, Atomics.load(control, ${C_DONE}), 50);
  `;
  class TestWorker extends real.Worker {
    constructor(source: string, options: WorkerOptions) {
      super({ real: source, dead: '', hang: hang() }[helper.mode], options);
    }
  }
  return { ...real, Worker: TestWorker };
});
vi.mock('../../src/train/gbdt-threads.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/gbdt-threads.js')>();
  return {
    ...real,
    createGbdtThreads: (...[sizes, options]: Parameters<typeof real.createGbdtThreads>): GbdtThreads => {
      helper.created++;
      const t = real.createGbdtThreads(sizes, { timeoutMs: 300, ...options });
      const lostAfter = helper.lostAfter;
      if (lostAfter === null || t.threads === 1) return t;
      let tasks = 0;
      return {
        ...t,
        run(...args) {
          if (++tasks > lostAfter) throw new real.HelperLostError(300);
          t.run(...args);
        },
      };
    },
  };
});

const n = 40_000;
const nValid = 5_000;
const sizes = { n, nValid, f: 6, stride: 8, maxBins: 32, maxLeaves: 8 };

/** Two-thread and one-thread runners on the same random codes, scores and labels. */
function pair(): [GbdtThreads, GbdtThreads] {
  const two = createGbdtThreads(sizes, { threads: 2 });
  const one = createGbdtThreads(sizes, { threads: 1 });
  const rng = createRng(4);
  for (let i = 0; i < n * sizes.stride; i++) one.views.codes[i] = two.views.codes[i] = rng.nextUint32() % sizes.maxBins;
  for (let i = 0; i < nValid * sizes.stride; i++) one.views.vcodes[i] = two.views.vcodes[i] = rng.nextUint32() % sizes.maxBins;
  for (let i = 0; i < n; i++) {
    one.views.raw[i] = two.views.raw[i] = 4 * (rng.next() - 0.5);
    one.views.y[i] = two.views.y[i] = rng.next() < 0.4 ? 1 : 0;
  }
  for (let i = 0; i < nValid; i++) one.views.vy[i] = two.views.vy[i] = rng.next() < 0.4 ? 1 : 0;
  // A tree of one leaf, whose row range is every row.
  for (const t of [one, two]) {
    t.views.feature[0] = -1;
    t.views.value[0] = 0.25;
    t.views.leaves.set([0, n, 0.25]);
  }
  return [two, one];
}

const same = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function trainBoth(): { two: ReturnType<typeof trainGbdt>; one: ReturnType<typeof trainGbdt>; seen: TrainProgress[] } {
  const { train, valid } = split(linearData(60_000, 3));
  const params = { trees: 4, depth: 4 };
  const seen: TrainProgress[] = [];
  const two = trainGbdt({ train, valid, params, seed: 1, threads: 2, onProgress: (p) => seen.push(p) });
  const one = trainGbdt({ train, valid, params, seed: 1, threads: 1 });
  return { two, one, seen };
}

describe('gbdt threads', () => {
  it('gives the same results when the helper runs half of each task', async () => {
    const [two, one] = pair();
    try {
      expect(two.threads).toBe(2);
      const h = n / 2;
      const vh = nValid / 2;
      const run = (kind: number, a: number[], b: number[]): void => {
        for (const t of [two, one]) t.run(kind, a, b, true);
        expect(Array.from(two.views.out)).toEqual(Array.from(one.views.out));
      };
      run(TASK_PREPARE, [0, h], [h, n]);
      expect(same(two.views.columns, one.views.columns)).toBe(true);
      expect(same(two.views.base[0], one.views.base[0]) && same(two.views.base[1], one.views.base[1])).toBe(true);
      expect(one.views.columns[2 * n + 7]).toBe(one.views.codes[7 * sizes.stride + 2]);
      // The helper takes halves once it is up: repeat the first round's task (it gives the same every time) until it has.
      do run(TASK_OPEN, [0, h, 0, h, 1, 1], [h, n, h, n, 1, 1]);
      while (two.helped === 0);
      expect(same(two.views.gh, one.views.gh)).toBe(true);
      expect(same(two.views.hist[0], one.views.hist[0]) && same(two.views.hist[1], one.views.hist[1])).toBe(true);

      const helped = two.helped;
      run(TASK_CLOSE, [0, h, 0, vh, 1], [h, n, vh, nValid, 1]);
      expect(same(two.views.raw, one.views.raw)).toBe(true);
      expect(same(two.views.vraw, one.views.vraw)).toBe(true);
      expect(two.views.vraw[nValid - 1]).toBe(0.25);

      run(TASK_SPLIT, [0, h, 2, 9, 2], [h, n, 2, 9, 2]);
      expect(same(two.views.hist[0], one.views.hist[0]) && same(two.views.hist[1], one.views.hist[1])).toBe(true);
      expect(same(two.views.rows, one.views.rows)).toBe(true);
      // The first half's count of rows with code <= 9 of feature 2.
      let lefts = 0;
      for (let i = 0; i < h; i++) if (one.views.columns[2 * n + i] <= 9) lefts++;
      expect(two.views.out[0]).toBe(lefts);
      expect(two.helped).toBeGreaterThan(helped);
    } finally {
      await two.close();
      await one.close();
    }
  });

  it('uses one thread for small inputs', async () => {
    const t = createGbdtThreads({ ...sizes, n: 1000 }, { threads: 2 });
    expect(t.threads).toBe(1);
    await t.close();
  });

  it('runs every half on the calling thread when the helper never starts', () => {
    helper.mode = 'dead';
    try {
      const { two, one } = trainBoth();
      expect(two.trees).toEqual(one.trees);
      expect(two.history).toEqual(one.history);
    } finally {
      helper.mode = 'real';
    }
  });

  it('gives up on a helper that hangs in a task', async () => {
    helper.mode = 'hang';
    try {
      const t = createGbdtThreads(sizes, { threads: 2 });
      const h = n / 2;
      // The caller takes a half back if the helper has not started it, so offer until it does.
      expect(() => {
        for (;;) t.run(TASK_OPEN, [0, h, 0, h, 1, 1], [h, n, h, n, 1, 1], true);
      }).toThrow(HelperLostError);
      await t.close();
    } finally {
      helper.mode = 'real';
    }
  });

  it('trains again on one thread when the helper is lost, reporting each round once', () => {
    helper.lostAfter = 20;
    helper.created = 0;
    try {
      const { two, one, seen } = trainBoth();
      // The two-thread run, its one-thread restart, and the one-thread run.
      expect(helper.created).toBe(3);
      expect(two.trees).toEqual(one.trees);
      expect(two.history).toEqual(one.history);
      expect(seen.map((p) => p.iteration)).toEqual([1, 2, 3, 4]);
    } finally {
      helper.lostAfter = null;
    }
  });
});
