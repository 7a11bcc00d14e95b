// Use case: `mlops data status`, in the spirit of `dvc status`: for each dataset, which locked
// shards are intact, modified or missing, which shard files are not in the lock, and how many
// outcomes of the store the next collect would seal. Shard hashes are cached by (size, mtime,
// inode) in .mlops/cache/shard-hashes.json so a status on an unchanged tree does not re-read
// gigabytes; `mlops data verify` never uses the cache.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/config.js';
import { isMlopsError, type Problem } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { countNewOutcomes } from '../data/collect.js';
import { hashFile } from '../data/hash-file.js';
import { LOCK_FILE, type DatasetLock, type MergeStrategy } from '../data/lock.js';
import { readLock } from '../data/read-lock.js';

export type ShardState = 'locked' | 'modified' | 'missing';

export interface DatasetStatus {
  name: string;
  mergeStrategy: MergeStrategy;
  shards: Array<{ path: string; state: ShardState; rows: number }>;
  /** CSV files under datasets/<name>/ that datasets.lock does not list. */
  untracked: string[];
  /** What the next `mlops data collect` would seal (null when a shard is bad: fix that first). */
  new: { rows: number; updates: number; conflicts: number; stale: number } | null;
  merged: { sha256: string; rows: number } | null;
}

export interface DataStatus {
  /** No modified or missing shard, nothing untracked and nothing new. */
  clean: boolean;
  datasets: DatasetStatus[];
  store: { files: number; bytes: number; records: number; invalid: number; truncated: number };
  problems: Problem[];
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

const CACHE_FILE = '.mlops/cache/shard-hashes.json';

async function loadCache(dir: string): Promise<Record<string, CacheEntry>> {
  try {
    const v = JSON.parse(await readFile(join(dir, CACHE_FILE), 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, CacheEntry>) : {};
  } catch {
    return {};
  }
}

/** SHA-256 and size of a file, from the cache when size, mtime and inode are unchanged. */
async function cachedHash(dir: string, path: string, cache: Record<string, CacheEntry>): Promise<{ sha256: string; bytes: number } | null> {
  let st;
  try {
    st = await stat(join(dir, path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const c = cache[path];
  if (c && c.size === st.size && c.mtimeMs === st.mtimeMs && c.ino === st.ino) return { sha256: c.sha256, bytes: c.size };
  const h = await hashFile(join(dir, path));
  cache[path] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256: h.sha256 };
  return h;
}

export async function dataStatus(opts: { dir?: string; dataset?: string; useCache?: boolean } = {}): Promise<DataStatus> {
  const dir = resolve(opts.dir ?? process.cwd());
  const { config } = await loadConfig({ dir });
  const problems: Problem[] = [];
  let lock: DatasetLock;
  try {
    lock = (await readLock(dir)).lock;
  } catch (e) {
    if (!isMlopsError(e)) throw e;
    return {
      clean: false,
      datasets: [],
      store: { files: 0, bytes: 0, records: 0, invalid: 0, truncated: 0 },
      problems: [{ code: e.code, path: LOCK_FILE, message: e.message, hint: e.hint }],
    };
  }
  const cache = opts.useCache === false ? {} : await loadCache(dir);
  const names = new Set(Object.keys(lock.datasets));
  names.add(opts.dataset ?? config.dataset);
  const datasets: DatasetStatus[] = [];
  let store: DataStatus['store'] = { files: 0, bytes: 0, records: 0, invalid: 0, truncated: 0 };
  for (const name of [...names].sort()) {
    if (opts.dataset && name !== opts.dataset) continue;
    const ds = lock.datasets[name];
    const shards: DatasetStatus['shards'] = [];
    for (const s of ds?.shards ?? []) {
      const h = await cachedHash(dir, s.path, cache);
      const state: ShardState = !h ? 'missing' : h.sha256 === s.sha256 && h.bytes === s.bytes ? 'locked' : 'modified';
      shards.push({ path: s.path, state, rows: s.rows });
      if (state === 'missing') problems.push({ code: 'SHARD_MISSING', path: s.path, message: `${s.path} is locked but missing`, hint: `git checkout -- ${s.path}` });
      if (state === 'modified') problems.push({ code: 'SHARD_MODIFIED', path: s.path, message: `${s.path} changed after locking`, hint: `git checkout -- ${s.path}` });
    }
    const locked = new Set(shards.map((s) => s.path));
    let untracked: string[] = [];
    try {
      untracked = (await readdir(join(dir, 'datasets', name)))
        .filter((f) => f.endsWith('.csv') && !locked.has(`datasets/${name}/${f}`))
        .map((f) => `datasets/${name}/${f}`)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    let fresh: DatasetStatus['new'] = null;
    if (shards.every((s) => s.state === 'locked')) {
      const n = await countNewOutcomes({ dir, dataset: name, mergeStrategy: ds ? undefined : config.retrain.merge_strategy });
      fresh = { rows: n.newRows, updates: n.updates, conflicts: n.dropped.conflict, stale: n.dropped.stale };
      store = { files: n.store.files, bytes: n.store.bytes, records: n.read, invalid: n.dropped.invalid, truncated: n.truncated };
    }
    datasets.push({
      name,
      mergeStrategy: ds?.merge_strategy ?? config.retrain.merge_strategy,
      shards,
      untracked,
      new: fresh,
      merged: ds ? { ...ds.merged } : null,
    });
  }
  if (opts.useCache !== false) {
    await mkdir(join(dir, '.mlops', 'cache'), { recursive: true });
    await writeFileAtomic(join(dir, CACHE_FILE), JSON.stringify(cache) + '\n');
  }
  const clean = problems.length === 0 && datasets.every((d) => d.untracked.length === 0 && (d.new?.rows ?? 0) === 0);
  return { clean, datasets, store, problems };
}
