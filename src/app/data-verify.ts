// Use case: `mlops data verify`. Re-hashes every locked shard (no cache) and recomputes each
// dataset's merged hash; every bad shard is one problem with a stable code and its path. The CLI
// exits 1 when `ok` is false.
import { resolve } from 'node:path';
import { isMlopsError, type Problem } from '../errors.js';
import { hashFile } from '../data/hash-file.js';
import { LOCK_FILE, type DatasetLock } from '../data/lock.js';
import { computeMergedHash } from '../data/merged.js';
import { readLock } from '../data/read-lock.js';
import { join } from 'node:path';

export interface ShardCheck {
  dataset: string;
  path: string;
  state: 'ok' | 'missing' | 'modified';
  sha256: string | null;
  bytes: number | null;
}

export interface VerifyDataResult {
  ok: boolean;
  /** Shards checked. */
  checked: number;
  shards: ShardCheck[];
  /** Each problem: SHARD_MISSING, SHARD_MODIFIED, DATASET_MERGED_MISMATCH or LOCK_INVALID, with its path. */
  problems: Problem[];
}

export async function verifyData(opts: { dir?: string; dataset?: string } = {}): Promise<VerifyDataResult> {
  const dir = resolve(opts.dir ?? process.cwd());
  let lock: DatasetLock;
  try {
    lock = (await readLock(dir)).lock;
  } catch (e) {
    if (!isMlopsError(e)) throw e;
    return { ok: false, checked: 0, shards: [], problems: [{ code: e.code, path: LOCK_FILE, message: e.message, hint: e.hint }] };
  }
  const problems: Problem[] = [];
  const shards: ShardCheck[] = [];
  for (const [name, ds] of Object.entries(lock.datasets)) {
    if (opts.dataset && name !== opts.dataset) continue;
    let intact = true;
    for (const s of ds.shards) {
      const got = await hashFile(join(dir, s.path)).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null;
        throw e;
      });
      if (!got) {
        intact = false;
        shards.push({ dataset: name, path: s.path, state: 'missing', sha256: null, bytes: null });
        problems.push({ code: 'SHARD_MISSING', path: s.path, message: `${s.path} is locked in ${LOCK_FILE} but missing`, hint: 'Restore it from git: `git checkout -- ' + s.path + '`.' });
        continue;
      }
      if (got.sha256 !== s.sha256 || got.bytes !== s.bytes) {
        intact = false;
        shards.push({ dataset: name, path: s.path, state: 'modified', ...got });
        problems.push({
          code: 'SHARD_MODIFIED',
          path: s.path,
          message: `${s.path} changed after locking: sha256 ${got.sha256}, ${got.bytes} bytes; ${LOCK_FILE} says ${s.sha256}, ${s.bytes} bytes`,
          hint: `Sealed shards are immutable: restore it with \`git checkout -- ${s.path}\`; new outcomes go into a new shard via \`mlops data collect\`.`,
        });
        continue;
      }
      shards.push({ dataset: name, path: s.path, state: 'ok', ...got });
    }
    // The merged hash is only meaningful over intact shards; a bad shard was reported above.
    if (intact && ds.shards.length) {
      try {
        const m = await computeMergedHash({ dir, shards: ds.shards, strategy: ds.merge_strategy });
        if (m.sha256 !== ds.merged.sha256 || m.rows !== ds.merged.rows) {
          problems.push({
            code: 'DATASET_MERGED_MISMATCH',
            path: LOCK_FILE,
            message: `datasets.${name}.merged: the shards merge (${ds.merge_strategy}) to ${m.sha256}, ${m.rows} rows; the lock says ${ds.merged.sha256}, ${ds.merged.rows} rows`,
            hint: 'datasets.lock was edited by hand; restore it from git.',
          });
        }
      } catch (e) {
        if (!isMlopsError(e)) throw e;
        problems.push({ code: e.code, path: (e.data?.path as string | undefined) ?? LOCK_FILE, message: e.message, hint: e.hint });
      }
    }
  }
  return { ok: problems.length === 0, checked: shards.length, shards, problems };
}
