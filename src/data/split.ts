// Train / validation / test split by hash of task_id (SPEC 6.2): a record stays in its split
// across retrains, so a new version's test split can be scored by the production version too,
// and any language reproduces it. Pure.
import { createHash } from 'node:crypto';

export type Split = 'train' | 'validation' | 'test';

/** The bucket 0..99 of a task_id: first 4 bytes of SHA-256("split:" + task_id), big-endian, mod 100. */
export function splitBucket(taskId: string): number {
  return createHash('sha256').update(`split:${taskId}`, 'utf8').digest().readUInt32BE(0) % 100;
}

export function splitOf(taskId: string): Split {
  const b = splitBucket(taskId);
  return b < 80 ? 'train' : b < 90 ? 'validation' : 'test';
}

/** Partitions records by split, keeping their order within each split. */
export function splitRecords<T extends { task_id: string }>(records: Iterable<T>): Record<Split, T[]> {
  const out: Record<Split, T[]> = { train: [], validation: [], test: [] };
  for (const r of records) out[splitOf(r.task_id)].push(r);
  return out;
}
