import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitBucket, splitOf, splitRecords } from '../../src/data/split.js';

describe('split (SPEC 6.2)', () => {
  // Vectors computed independently with Python's hashlib:
  // int.from_bytes(sha256(("split:" + t).encode()).digest()[:4], "big") % 100
  it.each([
    ['t-81723', 83, 'validation'],
    ['t-0', 89, 'validation'],
    ['task-1', 54, 'train'],
    ['a', 23, 'train'],
    ['', 78, 'train'],
    ['é', 40, 'train'],
    ['😀', 86, 'validation'],
    ['t-1000000', 39, 'train'],
    ['00000000-0000-0000-0000-000000000000', 13, 'train'],
    ['t-17', 92, 'test'],
    ['t-18', 94, 'test'],
  ])('%j -> bucket %i, %s', (taskId, bucket, split) => {
    expect(splitBucket(taskId)).toBe(bucket);
    expect(splitOf(taskId)).toBe(split);
  });

  it('keeps a record in its split whatever else changes and in any input order', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 50 }), fc.integer(), (ids, salt) => {
        const a = splitRecords(ids.map((task_id) => ({ task_id, v: 1 })));
        const b = splitRecords([...ids].reverse().map((task_id) => ({ task_id, v: salt })));
        for (const k of ['train', 'validation', 'test'] as const) {
          expect(new Set(b[k].map((r) => r.task_id))).toEqual(new Set(a[k].map((r) => r.task_id)));
        }
      }),
    );
  });

  it('puts about 80/10/10 percent of task_ids in train/validation/test', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => ({ task_id: `task-${i}` }));
    const s = splitRecords(ids);
    expect(s.train.length / 20_000).toBeCloseTo(0.8, 1);
    expect(s.validation.length / 20_000).toBeCloseTo(0.1, 1);
    expect(s.test.length / 20_000).toBeCloseTo(0.1, 1);
    expect(s.train.length + s.validation.length + s.test.length).toBe(20_000);
  });
});
