// Builders for outcome stores and records in tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RawOutcome {
  task_id: string;
  domain: string;
  action_attempted: string;
  result: 'success' | 'failure' | 'error' | boolean;
  timestamp: string;
  [k: string]: unknown;
}

export function outcome(i: number | string, over: Partial<RawOutcome> = {}): RawOutcome {
  const n = typeof i === 'number' ? i : 0;
  return {
    task_id: typeof i === 'string' ? i : `t-${String(i).padStart(5, '0')}`,
    domain: `d${n % 5}.example.org`,
    action_attempted: n % 2 ? 'blog_comment' : 'guest_post',
    result: n % 3 ? 'success' : 'failure',
    timestamp: new Date(Date.UTC(2026, 10, 20) + n * 60_000).toISOString(),
    ...over,
  };
}

/** Writes records as one JSONL file of the store (replacing it). */
export function writeStore(dir: string, file: string, records: unknown[]): void {
  mkdirSync(join(dir, '.mlops', 'outcomes'), { recursive: true });
  writeFileSync(join(dir, '.mlops', 'outcomes', file), records.map((r) => JSON.stringify(r) + '\n').join(''));
}
