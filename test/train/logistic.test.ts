import { describe, expect, it } from 'vitest';
import { trainLogistic, predictLogistic, predictLogisticRaw, resolveLogisticParams } from '../../src/train/logistic.js';
import { computeMetrics } from '../../src/train/metrics.js';
import type { TrainProgress } from '../../src/train/progress.js';
import { linearData, makeData, split, xorData } from './helpers.js';

describe('trainLogistic', () => {
  it('recovers the coefficients of a logistic model', () => {
    const m = linearData(40000, 11, 4);
    const model = trainLogistic({ train: m, params: { l2: 1e-6 } });
    expect(model.converged).toBe(true);
    // Raw-space coefficient of column j = coef_j * scale_j; true values 1.5, -1, 0, 0 and intercept 0.3.
    const raw = Array.from(model.coef, (c, j) => c * model.scale[j]);
    expect(raw[0]).toBeCloseTo(1.5, 1);
    expect(raw[1]).toBeCloseTo(-1.0, 1);
    expect(Math.abs(raw[2])).toBeLessThan(0.05);
    expect(Math.abs(raw[3])).toBeLessThan(0.05);
    let intercept = model.intercept;
    for (let j = 0; j < 4; j++) intercept -= raw[j] * model.offset[j];
    expect(intercept).toBeCloseTo(0.3, 1);
  });

  it('reaches the optimum: the penalised gradient vanishes', () => {
    const m = makeData(5000, 3, 9, (x, o) => x[o] - 2 * x[o + 2] + 0.5);
    const l2 = 3;
    const model = trainLogistic({ train: m, params: { l2 } });
    const eta = predictLogisticRaw(model, m);
    const g = new Float64Array(4);
    for (let i = 0; i < m.n; i++) {
      const r = 1 / (1 + Math.exp(-eta[i])) - m.y[i];
      for (let j = 0; j < 3; j++) g[j] += r * (m.X[i * 3 + j] - model.offset[j]) * model.scale[j];
      g[3] += r;
    }
    for (let j = 0; j < 3; j++) g[j] += l2 * model.coef[j];
    // Relative to n: float32 rounding of the stored coefficients is all that is left.
    for (const v of g) expect(Math.abs(v) / m.n).toBeLessThan(1e-5);
  });

  it('finds a linear signal and none in XOR', () => {
    const lin = split(linearData(6000));
    const a = trainLogistic({ train: lin.train, valid: lin.valid });
    expect(computeMetrics(predictLogistic(a, lin.test), lin.test.y).auc!).toBeGreaterThan(0.8);
    const xor = split(xorData(6000));
    const b = trainLogistic({ train: xor.train, valid: xor.valid });
    expect(computeMetrics(predictLogistic(b, xor.test), xor.test.y).auc!).toBeLessThan(0.6);
  });

  it('reports progress per Newton step and stops within max_iter', () => {
    const { train, valid } = split(linearData(3000));
    const seen: TrainProgress[] = [];
    const model = trainLogistic({ train, valid, params: { max_iter: 2, tol: 1e-12 }, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.iteration)).toEqual([1, 2]);
    expect(seen[0].total).toBe(2);
    expect(seen[1].validLoss).not.toBeNull();
    expect(model.iterations).toBe(2);
    expect(model.converged).toBe(false);
  });

  it('copes with constant and duplicated columns, and with large offsets', () => {
    const m = linearData(3000, 5, 4);
    for (let i = 0; i < m.n; i++) {
      m.X[i * 4 + 2] = 1e6; // constant
      m.X[i * 4 + 3] = m.X[i * 4] + 1e4; // duplicate of column 0, shifted far from 0
    }
    const model = trainLogistic({ train: m, params: { l2: 0 } });
    expect(model.scale[2]).toBe(0);
    const auc = computeMetrics(predictLogistic(model, m), m.y).auc!;
    expect(auc).toBeGreaterThan(0.8);
    for (const c of model.coef) expect(Number.isFinite(c)).toBe(true);
  });

  it('is deterministic', () => {
    const m = linearData(2000, 6);
    const a = trainLogistic({ train: m });
    const b = trainLogistic({ train: m });
    expect(a.coef).toEqual(b.coef);
    expect(a.intercept).toBe(b.intercept);
  });

  it('fills defaults and rejects unknown parameters', () => {
    expect(resolveLogisticParams({})).toEqual({ l2: 1, max_iter: 100, tol: 1e-6 });
    expect(() => resolveLogisticParams({ C: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveLogisticParams({ l2: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
