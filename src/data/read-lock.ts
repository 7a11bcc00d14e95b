// Reads datasets.lock from a registry directory (absent -> an empty lock).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyLock, LOCK_FILE, parseLock, type DatasetLock } from './lock.js';

export async function readLock(dir: string): Promise<{ lock: DatasetLock; text: string | null }> {
  let text: string;
  try {
    text = await readFile(join(dir, LOCK_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lock: emptyLock(), text: null };
    throw e;
  }
  return { lock: parseLock(text, LOCK_FILE), text };
}
