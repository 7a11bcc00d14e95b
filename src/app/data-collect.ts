// Use case: `mlops data collect`. Load (config, lock, store) -> plan (the new shard and lock,
// staged under .mlops/tmp) -> apply (shard first, lock last) -> optionally commit both.
import { resolve } from 'node:path';
import { loadConfig } from '../config/config.js';
import { GitRepo } from '../git/repo.js';
import type { FileEdit } from '../git/repo.js';
import {
  applyCollect,
  collectEdits,
  discardCollect,
  prepareCollect,
  type CollectSummary,
  type PreparedCollect,
} from '../data/collect.js';
import type { MergeStrategy } from '../data/lock.js';
import type { StoreWarning } from '../data/outcome-store.js';

export interface CollectOptions {
  /** Registry directory (default: current directory). */
  dir?: string;
  /** Dataset name; default: `dataset` of mlops.config.json (backlink-outcomes). */
  dataset?: string;
  /** Default: retrain.merge_strategy of mlops.config.json when the file exists, else the lock's, else append. */
  mergeStrategy?: MergeStrategy;
  /** Clock for created_at and the shard's date (tests, reproducible samples). */
  now?: Date;
  /** Commit the shard and lock (subject `mlops(data): collect <shard file>`). */
  commit?: boolean;
  /** Plan only: nothing is written (the summary says what would be sealed). */
  dryRun?: boolean;
  onWarning?: (w: StoreWarning) => void;
  /** Rows per in-memory sort chunk (tests). */
  chunkRows?: number;
  /** Worker threads parsing the store (default: automatic for stores over 16 MiB). */
  workers?: number;
}

export interface CollectResult extends CollectSummary {
  /** Paths written into the working tree (relative to dir). */
  written: string[];
  /** The commit made when `commit` was set and something changed. */
  commit: string | null;
  dryRun: boolean;
}

async function resolveOptions(opts: { dir?: string; dataset?: string; mergeStrategy?: MergeStrategy }) {
  const dir = resolve(opts.dir ?? process.cwd());
  const { config, path } = await loadConfig({ dir });
  return {
    dir,
    dataset: opts.dataset ?? config.dataset,
    // An explicit config file states intent; without one the lock's strategy stands.
    mergeStrategy: opts.mergeStrategy ?? (path ? config.retrain.merge_strategy : undefined),
  };
}

/**
 * Plans a collect without touching the working tree: the retrain job uses it to put the same
 * shard and lock edits into its own commit. Call `discardCollect(prepared)` when not applying it.
 */
export async function planCollectFromStore(opts: Omit<CollectOptions, 'commit' | 'dryRun'> = {}): Promise<{
  prepared: PreparedCollect;
  edits: () => Promise<FileEdit[]>;
}> {
  const o = await resolveOptions(opts);
  const prepared = await prepareCollect({ ...o, now: opts.now ?? new Date(), onWarning: opts.onWarning, chunkRows: opts.chunkRows, workers: opts.workers });
  return { prepared, edits: () => collectEdits(prepared) };
}

export async function collectOutcomes(opts: CollectOptions = {}): Promise<CollectResult> {
  const o = await resolveOptions(opts);
  const prepared = await prepareCollect({ ...o, now: opts.now ?? new Date(), onWarning: opts.onWarning, chunkRows: opts.chunkRows, workers: opts.workers });
  if (opts.dryRun) {
    await discardCollect(prepared);
    return { ...prepared.summary, written: [], commit: null, dryRun: true };
  }
  // Read the edits before applying: apply moves the staged shard into place.
  const edits = opts.commit && prepared.summary.changed ? await collectEdits(prepared) : [];
  const written = await applyCollect(o.dir, prepared);
  let commit: string | null = null;
  if (opts.commit && edits.length) {
    // Dated by the same clock as the shard, so simulations and tests get stable commits.
    const repo = await GitRepo.open(o.dir, { clock: opts.now ? () => opts.now! : undefined });
    const name = prepared.summary.shard?.path.split('/').pop() ?? 'datasets.lock';
    commit = await repo.commitFiles({ edits, message: collectMessage(prepared.summary, name) });
  }
  return { ...prepared.summary, written, commit, dryRun: false };
}

/** Subject `mlops(data): collect <shard file>`, body with the counts and hashes. */
export function collectMessage(s: CollectSummary, shardFile: string): string {
  const d = s.dropped;
  const lines = [
    `mlops(data): collect ${shardFile}`,
    '',
    `Dataset ${s.dataset} (${s.mergeStrategy}): ${s.newRows} new rows${s.updates ? ` (${s.updates} updates)` : ''}, merged set ${s.merged.rows} rows.`,
    `Dropped: ${d.duplicate} duplicate, ${d.conflict} conflict, ${d.stale} stale, ${d.superseded} superseded, ${d.invalid} invalid.`,
    '',
    ...(s.shard ? [`Shard-Sha256: ${s.shard.sha256}`] : []),
    `Merged-Sha256: ${s.merged.sha256}`,
  ];
  return lines.join('\n') + '\n';
}
