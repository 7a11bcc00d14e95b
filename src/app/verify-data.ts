// The datasets.lock part of `mlops verify`: every locked shard exists and matches its hash.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Problem } from '../errors.js';
import { sha256File } from '../util/hash.js';
import { LOCK_FILE } from '../registry/paths.js';
import { statOrNull } from './registry-store.js';

export async function verifyLockedShards(root: string): Promise<{ checked: number; problems: Problem[] }> {
  const lockPath = join(root, LOCK_FILE);
  if (!statOrNull(lockPath)) return { checked: 0, problems: [] };
  const { parseAndValidateYaml } = await import('../util/validate.js');
  let lock: { datasets: Record<string, { shards: Array<{ path: string; sha256: string; bytes: number }> }> };
  try {
    lock = parseAndValidateYaml(await readFile(lockPath, 'utf8'), LOCK_FILE, 'dataset-lock', 'LOCK_INVALID');
  } catch (e) {
    const err = e as { code?: Problem['code']; message: string; hint?: string };
    return { checked: 0, problems: [{ code: err.code ?? 'LOCK_INVALID', path: LOCK_FILE, message: err.message, hint: err.hint }] };
  }
  const problems: Problem[] = [];
  let checked = 0;
  for (const ds of Object.values(lock.datasets)) {
    for (const shard of ds.shards) {
      checked++;
      const abs = join(root, shard.path);
      if (!statOrNull(abs)) {
        problems.push({ code: 'SHARD_MISSING', path: shard.path, message: `locked shard ${shard.path} is missing`, hint: 'Restore it from git history; shards are immutable once locked.' });
        continue;
      }
      const { sha256, bytes } = await sha256File(abs);
      if (sha256 !== shard.sha256 || bytes !== shard.bytes) {
        problems.push({ code: 'SHARD_MODIFIED', path: shard.path, message: `shard changed after locking (SHA-256 ${sha256}, lock says ${shard.sha256})`, hint: 'Restore the locked shard; new outcomes go into a new shard via `mlops data collect`.' });
      }
    }
  }
  return { checked, problems };
}
