// Use case: `mlops data synth`: append seeded synthetic outcomes to the local store (demos, the
// demo loop, benchmarks). The records go through the feedback collector like real ones.
import { resolve } from 'node:path';
import { getFeedbackCollector } from '../data/collector.js';
import { synthOutcomeStream, type SynthOptions } from '../data/synth.js';

export interface SynthToStoreOptions extends SynthOptions {
  /** Registry directory (default: current directory). */
  dir?: string;
  /** fsync each batch (default true; false for throwaway demos). */
  durable?: boolean;
}

export interface SynthToStoreResult {
  appended: number;
  /** Outcomes by result. */
  results: Record<'success' | 'failure' | 'error', number>;
  first: string | null;
  last: string | null;
}

export async function synthToStore(opts: SynthToStoreOptions): Promise<SynthToStoreResult> {
  const collector = getFeedbackCollector({ dir: resolve(opts.dir ?? process.cwd()), durability: opts.durable === false ? 'none' : 'fsync' });
  const results = { success: 0, failure: 0, error: 0 };
  let batch = [];
  let appended = 0;
  let first: string | null = null;
  let last: string | null = null;
  for (const r of synthOutcomeStream(opts)) {
    results[r.result]++;
    if (first === null || r.timestamp < first) first = r.timestamp;
    if (last === null || r.timestamp > last) last = r.timestamp;
    batch.push(r);
    if (batch.length === 5000) {
      appended += (await collector.appendOutcomes(batch)).accepted;
      batch = [];
    }
  }
  if (batch.length) appended += (await collector.appendOutcomes(batch)).accepted;
  return { appended, results, first, last };
}
