// datasets.lock (SPEC 5): which sealed shards make up each dataset, their hashes, and the hash of
// the merged training set. Parsing, semantic checks, canonical writing and the pure update that
// `mlops data collect` plans. Pure: reading the file is read-lock.ts.
import { MlopsError, type Problem } from '../errors.js';
import { throwProblems, validateValue } from '../util/validate.js';
import { parseYaml, toYaml } from '../util/yaml.js';

export const LOCK_FILE = 'datasets.lock';

export type MergeStrategy = 'append' | 'dedupe';

/** Why records of a collect were left out, by reason (only non-zero counts are written). */
export type DroppedCounts = Partial<Record<'duplicate' | 'conflict' | 'stale' | 'superseded' | 'invalid', number>>;

export interface LockShard {
  path: string;
  sha256: string;
  bytes: number;
  rows: number;
  created_at: string;
  dropped?: DroppedCounts;
}

export interface LockDataset {
  schema: string;
  merge_strategy: MergeStrategy;
  shards: LockShard[];
  merged: { sha256: string; rows: number };
}

export interface DatasetLock {
  apiVersion: 'mlops/v1';
  kind: 'DatasetLock';
  datasets: Record<string, LockDataset>;
}

/** Dataset names, as in the lock's JSON Schema. */
export const DATASET_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function emptyLock(): DatasetLock {
  return { apiVersion: 'mlops/v1', kind: 'DatasetLock', datasets: {} };
}

/** Checks a dataset name; throws INVALID_ARGUMENT. */
export function assertDatasetName(name: string): void {
  if (!DATASET_NAME.test(name) || name.length > 100) {
    throw new MlopsError('INVALID_ARGUMENT', `invalid dataset name ${JSON.stringify(name)}`, {
      hint: 'Dataset names are lower-case letters, digits and inner dashes, e.g. backlink-outcomes.',
    });
  }
}

/** Problems the JSON Schema cannot express: paths in their dataset's folder, unique paths, row totals. */
export function lockProblems(lock: DatasetLock, file = LOCK_FILE, lineAt?: (pointer: string) => number | undefined): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const [name, ds] of Object.entries(lock.datasets)) {
    let rows = 0;
    ds.shards.forEach((s, i) => {
      const at = `/datasets/${name}/shards/${i}`;
      if (!s.path.startsWith(`datasets/${name}/`)) {
        problems.push({ code: 'LOCK_INVALID', path: file, line: lineAt?.(`${at}/path`), message: `${at}/path: ${s.path} is not in datasets/${name}/` });
      }
      if (!s.path.endsWith(`-${s.sha256.slice(0, 8)}.csv`)) {
        problems.push({ code: 'LOCK_INVALID', path: file, line: lineAt?.(`${at}/path`), message: `${at}/path: ${s.path} does not end with the first 8 hex of its sha256 (${s.sha256.slice(0, 8)})` });
      }
      const other = seen.get(s.path);
      if (other) problems.push({ code: 'LOCK_INVALID', path: file, line: lineAt?.(`${at}/path`), message: `${at}/path: ${s.path} is listed twice (also ${other})` });
      seen.set(s.path, at);
      rows += s.rows;
    });
    const at = `/datasets/${name}/merged/rows`;
    if (ds.merge_strategy === 'append' ? ds.merged.rows !== rows : ds.merged.rows > rows) {
      problems.push({
        code: 'LOCK_INVALID',
        path: file,
        line: lineAt?.(at),
        message: `${at}: ${ds.merged.rows} does not fit the shards' ${rows} rows under merge_strategy ${ds.merge_strategy}`,
      });
    }
  }
  return problems;
}

/** Parses and checks datasets.lock text; throws LOCK_INVALID (or YAML_*) listing every problem. */
export function parseLock(text: string, file = LOCK_FILE): DatasetLock {
  const parsed = parseYaml(text, file);
  const problems = validateValue('dataset-lock', parsed.value, { file, code: 'LOCK_INVALID', lineAt: parsed.lineAt });
  throwProblems('LOCK_INVALID', file, problems, 'datasets.lock is written by `mlops data collect`; restore it from git rather than editing it.');
  const lock = parsed.value as DatasetLock;
  throwProblems('LOCK_INVALID', file, lockProblems(lock, file, parsed.lineAt), 'datasets.lock is written by `mlops data collect`; restore it from git rather than editing it.');
  return lock;
}

/** The canonical text of a lock: fixed key order, datasets sorted by name. */
export function serializeLock(lock: DatasetLock): string {
  const datasets: Record<string, unknown> = {};
  for (const name of Object.keys(lock.datasets).sort()) {
    const ds = lock.datasets[name]!;
    datasets[name] = {
      schema: ds.schema,
      merge_strategy: ds.merge_strategy,
      shards: ds.shards.map((s) => ({
        path: s.path,
        sha256: s.sha256,
        bytes: s.bytes,
        rows: s.rows,
        created_at: s.created_at,
        ...(s.dropped && Object.values(s.dropped).some((n) => n) ? { dropped: nonZero(s.dropped) } : {}),
      })),
      merged: { sha256: ds.merged.sha256, rows: ds.merged.rows },
    };
  }
  return (
    '# yaml-language-server: $schema=https://mlops-gitops.dev/schemas/dataset-lock.schema.json\n' +
    '# Written by `mlops data collect`: the sealed shards of each dataset and their SHA-256.\n' +
    toYaml({ apiVersion: 'mlops/v1', kind: 'DatasetLock', datasets })
  );
}

function nonZero(d: DroppedCounts): DroppedCounts {
  const out: DroppedCounts = {};
  for (const k of ['duplicate', 'conflict', 'stale', 'superseded', 'invalid'] as const) if (d[k]) out[k] = d[k];
  return out;
}

/**
 * The lock after sealing `shard` (or only re-hashing, when shard is null) into `dataset`. Does
 * not mutate its input.
 */
export function planLockUpdate(
  lock: DatasetLock,
  args: { dataset: string; schema: string; mergeStrategy: MergeStrategy; shard: LockShard | null; merged: { sha256: string; rows: number } },
): DatasetLock {
  assertDatasetName(args.dataset);
  const prev = lock.datasets[args.dataset];
  const shards = prev ? [...prev.shards] : [];
  if (args.shard) {
    if (shards.some((s) => s.path === args.shard!.path)) {
      throw new MlopsError('SHARD_EXISTS', `${args.shard.path} is already in ${LOCK_FILE}`, {
        hint: 'Two collects on the same day produced the same shard name; this only happens when the lock was edited by hand.',
      });
    }
    shards.push(args.shard);
  }
  return {
    ...lock,
    datasets: {
      ...lock.datasets,
      [args.dataset]: { schema: args.schema, merge_strategy: args.mergeStrategy, shards, merged: { ...args.merged } },
    },
  };
}
