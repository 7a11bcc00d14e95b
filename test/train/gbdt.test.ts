import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { trainGbdt, predictGbdt, resolveGbdtParams } from '../../src/train/gbdt.js';
import { applyBinning, featureThresholds, fitBinning, midpoint32 } from '../../src/train/binning.js';
import { computeMetrics } from '../../src/train/metrics.js';
import type { TrainProgress } from '../../src/train/progress.js';
import { linearData, split, xorData } from './helpers.js';

describe('trainGbdt', () => {
  it('finds an XOR interaction that no linear model can', () => {
    const { train, valid, test } = split(xorData(6000));
    const model = trainGbdt({ train, valid, params: { trees: 60, depth: 3 }, seed: 1 });
    const auc = computeMetrics(predictGbdt(model, test), test.y).auc!;
    // Labels are the XOR with 7.6% noise: the best possible AUC is about 0.92.
    expect(auc).toBeGreaterThan(0.88);
  });

  it('finds a linear signal', () => {
    const { train, valid, test } = split(linearData(6000));
    const model = trainGbdt({ train, valid, params: { trees: 80, depth: 3 }, seed: 1 });
    expect(computeMetrics(predictGbdt(model, test), test.y).auc!).toBeGreaterThan(0.8);
  });

  it('stops early on the validation loss and keeps the best round', () => {
    const { train, valid } = split(linearData(3000));
    const model = trainGbdt({
      train,
      valid,
      params: { trees: 1000, depth: 6, learning_rate: 0.5, early_stopping_rounds: 5, min_samples_leaf: 1, l2: 0 },
      seed: 1,
    });
    expect(model.rounds).toBeLessThan(1000);
    expect(model.trees.length).toBe(model.bestRounds);
    expect(model.rounds - model.bestRounds).toBe(5);
    const v = model.history.validLoss as number[];
    expect(Math.min(...v)).toBe(v[model.bestRounds - 1]);
  });

  it('reports progress once per round with the train and validation loss', () => {
    const { train, valid } = split(linearData(2000));
    const seen: TrainProgress[] = [];
    const model = trainGbdt({ train, valid, params: { trees: 15, early_stopping_rounds: 0 }, seed: 3, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.iteration)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(seen.every((p) => p.total === 15 && p.validLoss !== null)).toBe(true);
    // Boosting on log-loss lowers the training loss every round.
    for (let i = 1; i < seen.length; i++) expect(seen[i].trainLoss).toBeLessThan(seen[i - 1].trainLoss);
    expect(model.trees.length).toBe(15);
  });

  it('respects depth, leaf and min_samples_leaf limits', () => {
    const { train } = split(linearData(3000));
    const model = trainGbdt({ train, params: { trees: 5, depth: 2, min_samples_leaf: 50 }, seed: 1 });
    for (const tree of model.trees) expect(tree.feature.filter((f) => f < 0).length).toBeLessThanOrEqual(4);
    const limited = trainGbdt({ train, params: { trees: 5, depth: 8, max_leaves: 5 }, seed: 1 });
    for (const tree of limited.trees) expect(tree.feature.filter((f) => f < 0).length).toBeLessThanOrEqual(5);
    // Leaf sizes: route the training rows and count.
    const counts = new Map<string, number>();
    for (let i = 0; i < train.n; i++) {
      model.trees.forEach((tree, t) => {
        let node = 0;
        while (tree.feature[node] >= 0) node = train.X[i * train.f + tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
        counts.set(`${t}:${node}`, (counts.get(`${t}:${node}`) ?? 0) + 1);
      });
    }
    expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(50);
  });

  it('is deterministic for a seed; subsampling makes the seed matter', () => {
    const { train, valid } = split(linearData(2000));
    const params = { trees: 10, subsample: 0.7 };
    const a = trainGbdt({ train, valid, params, seed: 5 });
    const b = trainGbdt({ train, valid, params, seed: 5 });
    const c = trainGbdt({ train, valid, params, seed: 6 });
    expect(a.trees).toEqual(b.trees);
    expect(a.trees).not.toEqual(c.trees);
  });

  it.each([1, 0.9])('builds the same trees with one or two threads (subsample %s)', (subsample) => {
    // An odd number of training rows: the halves differ in size.
    const { train, valid } = split(linearData(30_004, 8));
    const params = { trees: 8, depth: 5, subsample };
    const a = trainGbdt({ train, valid, params, seed: 2, threads: 1 });
    const b = trainGbdt({ train, valid, params, seed: 2, threads: 2 });
    expect(b.trees).toEqual(a.trees);
    expect(b.history).toEqual(a.history);
  });

  it('fills defaults and rejects unknown or out-of-range parameters', () => {
    expect(resolveGbdtParams({})).toEqual({
      trees: 200,
      depth: 6,
      learning_rate: 0.1,
      max_bins: 255,
      min_samples_leaf: 20,
      l2: 1,
      subsample: 1,
      early_stopping_rounds: 20,
      max_leaves: null,
    });
    expect(() => resolveGbdtParams({ tress: 10 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveGbdtParams({ depth: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveGbdtParams({ subsample: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveGbdtParams({ max_bins: 256 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveGbdtParams({ trees: '10' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('handles a constant column and a column with two values', () => {
    const m = linearData(1000, 4, 3);
    for (let i = 0; i < m.n; i++) {
      m.X[i * 3 + 2] = 7;
    }
    const model = trainGbdt({ train: m, params: { trees: 5 }, seed: 1 });
    for (const tree of model.trees) expect(Array.from(tree.feature)).not.toContain(2);
  });
});

describe('binning', () => {
  it('midpoint32 gives a float32 t with a <= t < b', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.float({ noNaN: true, noDefaultInfinity: true }), (x, z) => {
        const a = Math.fround(Math.min(x, z));
        const b = Math.fround(Math.max(x, z));
        fc.pre(a < b);
        const t = midpoint32(a, b);
        expect(Math.fround(t)).toBe(t);
        expect(a <= t && t < b).toBe(true);
      }),
    );
  });

  it('bin <= b exactly when x <= threshold[b], for values seen or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 300 }),
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 2, max: 40 }),
        (fitValues, probe, maxBins) => {
          const fit = { X: Float32Array.from(fitValues), n: fitValues.length, f: 1 };
          const binning = fitBinning(fit, maxBins, 1);
          const t = binning.thresholds[0];
          expect(t.length + 1).toBeLessThanOrEqual(maxBins);
          for (let k = 1; k < t.length; k++) expect(t[k]).toBeGreaterThan(t[k - 1]);
          const X = Float32Array.from([...fitValues, ...probe]);
          const { codes, stride } = applyBinning({ X, n: X.length, f: 1 }, binning);
          for (let i = 0; i < X.length; i++) {
            for (let b = 0; b < t.length; b++) expect(codes[i * stride] <= b).toBe(X[i] <= t[b]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('uses every distinct value when there are few, quantiles when there are many', () => {
    expect(Array.from(featureThresholds(Float32Array.from([0, 0, 1, 1, 1]), 255))).toEqual([0.5]);
    const many = Float32Array.from({ length: 10000 }, (_, i) => i);
    const t = featureThresholds(many, 10);
    expect(t.length).toBe(9);
    expect(t[4]).toBeCloseTo(4999.5, 3);
  });
});

describe('sortFloat32', () => {
  it('sorts like a numeric comparison sort, negatives and zeros included', async () => {
    const { sortFloat32 } = await import('../../src/train/binning.js');
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { maxLength: 500 }), (values) => {
        const a = Float32Array.from(values);
        const expected = Float32Array.from(values).sort();
        sortFloat32(a, new Uint32Array(a.length));
        // -0 and 0 compare equal; compare as numbers.
        expect(Array.from(a, (v) => v + 0)).toEqual(Array.from(expected, (v) => v + 0));
      }),
    );
  });
});
