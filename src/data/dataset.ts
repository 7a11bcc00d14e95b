// Reading a locked dataset: the merged training set of datasets.lock (append or dedupe), streamed
// in canonical order from its shards, every shard verified against its hash on the way and the
// merged hash checked against the lock at the end.
import { MlopsError } from '../errors.js';
import { createHash } from 'node:crypto';
import { mergedStream } from './merged.js';
import type { LockDataset, MergeStrategy } from './lock.js';
import type { OutcomeRecord } from './outcome.js';
import { readLock } from './read-lock.js';
import { rowToOutcome, SHARD_HEADER } from './shard.js';

export { computeMergedHash } from './merged.js';

export interface DatasetInfo {
  name: string;
  mergeStrategy: MergeStrategy;
  /** SHA-256 of the canonical merged set (the lock's merged.sha256; a manifest's dataset.sha256). */
  sha256: string;
  rows: number;
  shards: number;
}

/** The lock entry of a dataset; throws DATASET_NOT_FOUND. */
export async function datasetEntry(dir: string, name: string): Promise<LockDataset> {
  const { lock, text } = await readLock(dir);
  const ds = lock.datasets[name];
  if (!ds) {
    const known = Object.keys(lock.datasets);
    throw new MlopsError('DATASET_NOT_FOUND', text === null ? `no datasets.lock: dataset ${name} has not been collected` : `dataset ${name} is not in datasets.lock${known.length ? ` (it has ${known.join(', ')})` : ''}`, {
      hint: 'Run `mlops data collect` to seal outcomes into a dataset.',
    });
  }
  return ds;
}

/**
 * Streams the merged set of a dataset in batches of records. After the last batch the merged
 * hash has been checked (DATASET_MERGED_MISMATCH) and every shard verified (SHARD_MISSING /
 * SHARD_MODIFIED, thrown while reading). `info` is set once the stream is done.
 */
export function streamDataset(opts: { dir: string; name: string }): AsyncIterable<OutcomeRecord[]> & { info: DatasetInfo | null } {
  const self = {
    info: null as DatasetInfo | null,
    async *[Symbol.asyncIterator](): AsyncGenerator<OutcomeRecord[]> {
      const ds = await datasetEntry(opts.dir, opts.name);
      const hash = createHash('sha256').update(SHARD_HEADER);
      let rows = 0;
      for await (const batch of await mergedStream({ dir: opts.dir, shards: ds.shards, strategy: ds.merge_strategy })) {
        let text = '';
        const records: OutcomeRecord[] = [];
        for (const e of batch) {
          text += e.r;
          records.push(rowToOutcome(e.r, `${opts.name} merged row ${++rows}`));
        }
        hash.update(text);
        yield records;
      }
      const merged = { sha256: hash.digest('hex'), rows };
      if (merged.sha256 !== ds.merged.sha256 || merged.rows !== ds.merged.rows) {
        throw new MlopsError('DATASET_MERGED_MISMATCH', `the merged set of ${opts.name} hashes to ${merged.sha256.slice(0, 12)}… (${merged.rows} rows), datasets.lock says ${ds.merged.sha256.slice(0, 12)}… (${ds.merged.rows} rows)`, {
          hint: 'datasets.lock was edited by hand or written by another tool; restore it from git, or re-run `mlops data collect`.',
        });
      }
      self.info = { name: opts.name, mergeStrategy: ds.merge_strategy, sha256: merged.sha256, rows: merged.rows, shards: ds.shards.length };
    },
  };
  return self;
}

/**
 * The whole merged training set in memory (records in canonical order), with its identity for
 * the manifest (`dataset: { name, sha256, rows, shards }`).
 */
export async function loadDatasetRecords(opts: { dir: string; name: string }): Promise<DatasetInfo & { records: OutcomeRecord[] }> {
  const records: OutcomeRecord[] = [];
  const s = streamDataset(opts);
  for await (const batch of s) for (const r of batch) records.push(r);
  return { ...s.info!, records };
}
