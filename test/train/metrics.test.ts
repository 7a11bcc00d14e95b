import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeMetrics, rocAuc, metricsToJson } from '../../src/train/metrics.js';

describe('computeMetrics', () => {
  it('matches hand-computed values on a small case', () => {
    const m = computeMetrics([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    // Positive 0.35 beats negative 0.1 only; 0.8 beats both: 3 of 4 pairs.
    expect(m.auc).toBeCloseTo(0.75, 12);
    expect(m.log_loss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4, 12);
    // Predictions at 0.5: 0, 0, 0, 1.
    expect(m.accuracy).toBe(0.75);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.brier).toBeCloseTo((0.01 + 0.16 + 0.4225 + 0.04) / 4, 12);
    // One row per bin: |p - y| averaged.
    expect(m.ece).toBeCloseTo((0.1 + 0.4 + 0.65 + 0.2) / 4, 12);
    expect(m.rows).toBe(4);
  });

  it('counts tied scores one half in the AUC', () => {
    expect(computeMetrics([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]).auc).toBe(0.5);
    // (0.5 vs 0.2) = 1, (0.5 vs 0.5) = 1/2, (0.9 vs both) = 2: 3.5 of 4 pairs.
    expect(computeMetrics([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1]).auc).toBe(0.875);
  });

  it('puts p = 0.5 on the positive side and reports 0 precision when nothing is predicted positive', () => {
    const m = computeMetrics([0.5, 0.2], [1, 0]);
    expect(m.accuracy).toBe(1);
    const none = computeMetrics([0.1, 0.2, 0.3], [1, 0, 1]);
    expect(none.precision).toBe(0);
    expect(none.recall).toBe(0);
    expect(none.f1).toBe(0);
  });

  it('clips probabilities of 0 and 1 in the log loss', () => {
    const m = computeMetrics([0, 1], [1, 0]);
    // About -ln(1e-15) per row (1 - (1 - 1e-15) is not exactly 1e-15 in float64, as in sklearn).
    expect(m.log_loss).toBeCloseTo(-Math.log(1e-15), 0);
    expect(Number.isFinite(m.log_loss)).toBe(true);
  });

  it('has no AUC for a single class, written as null in metrics.json', () => {
    const m = computeMetrics([0.2, 0.7], [1, 1]);
    expect(m.auc).toBeNull();
    expect(metricsToJson(m).auc).toBeNull();
    expect(Object.keys(metricsToJson(m))).toEqual(['auc', 'log_loss', 'accuracy', 'precision', 'recall', 'f1', 'brier', 'ece', 'rows']);
  });

  it('rejects probabilities outside [0, 1], bad labels and empty input', () => {
    expect(() => computeMetrics([1.5], [1])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => computeMetrics([NaN], [1])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => computeMetrics([0.5], [2])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => computeMetrics([], [])).toThrow(expect.objectContaining({ code: 'TRAINING_DATA_EMPTY' }));
  });

  it('AUC equals the pairwise definition on random inputs with ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 1 })), { minLength: 2, maxLength: 60 }),
        (pairs) => {
          const p = pairs.map(([s]) => s / 10);
          const y = pairs.map(([, l]) => l);
          let num = 0;
          let den = 0;
          for (let i = 0; i < p.length; i++) {
            for (let j = 0; j < p.length; j++) {
              if (y[i] === 1 && y[j] === 0) {
                den++;
                num += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
              }
            }
          }
          const auc = rocAuc(p, y);
          if (den === 0) expect(auc).toBeNull();
          else expect(auc).toBeCloseTo(num / den, 12);
        },
      ),
    );
  });
});
