// Writes a built site into its output folder as a whole: the pages go into a fresh sibling
// folder which then replaces the old build by rename, so a server or a browser reading the
// folder sees the old site or the new one, never half of each. A folder is only replaced when it
// is empty or holds the marker of an earlier build: `--out .` in a repository is refused rather
// than emptied.
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MlopsError } from '../errors.js';

/** Marks a folder as a dashboard build (safe to replace). */
export const SITE_MARKER = '.mlops-dashboard';

export interface SiteFile {
  /** Path inside the site, with forward slashes. */
  path: string;
  content: string | Uint8Array;
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Throws DASHBOARD_OUT_INVALID unless `out` is absent, empty, or an earlier build. */
export async function checkOutDir(out: string): Promise<void> {
  const st = await statOrNull(out);
  if (!st) return;
  if (!st.isDirectory()) {
    throw new MlopsError('DASHBOARD_OUT_INVALID', `${out} exists and is not a folder`, { hint: 'Pass --out a new or empty folder, e.g. --out site.' });
  }
  const entries = await readdir(out);
  if (entries.length === 0 || entries.includes(SITE_MARKER)) return;
  throw new MlopsError('DASHBOARD_OUT_INVALID', `${out} is not empty and does not hold an earlier dashboard build (no ${SITE_MARKER} file)`, {
    hint: 'Pass --out a new or empty folder (e.g. --out site); a folder written by `mlops dashboard` is replaced on the next build.',
    data: { entries: entries.slice(0, 10) },
  });
}

/**
 * Writes files as the iterable produces them, a few in flight: with a lazy iterable (the page
 * renderer), each page is written while the next is rendered and dropped once written.
 */
async function writeAll(root: string, files: Iterable<SiteFile>): Promise<string[]> {
  const written: string[] = [];
  const dirs = new Map<string, Promise<unknown>>();
  const it = files[Symbol.iterator]();
  let done = false;
  let failure: unknown = null;
  const worker = async () => {
    while (!done) {
      const r = it.next();
      if (r.done) {
        done = true;
        return;
      }
      const path = join(root, r.value.path);
      const dir = dirname(path);
      let made = dirs.get(dir);
      if (!made) dirs.set(dir, (made = mkdir(dir, { recursive: true })));
      await made;
      await writeFile(path, r.value.content);
      written.push(r.value.path);
    }
  };
  // Every worker stops at the first failure and is waited for, so nothing is still writing when
  // the caller cleans up.
  await Promise.all(
    Array.from({ length: 8 }, () =>
      worker().catch((e: unknown) => {
        done = true;
        failure ??= e;
      }),
    ),
  );
  if (failure) throw failure;
  return written;
}

/** Writes the site into `outDir` (see the module comment); returns the paths written, marker last. */
export async function writeSite(outDir: string, files: Iterable<SiteFile>, meta: Record<string, unknown>): Promise<string[]> {
  const out = resolve(outDir);
  await checkOutDir(out);
  const parent = dirname(out);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const staging = join(parent, `.${basename(out)}.building-${tag}`);
  try {
    const written = await writeAll(staging, files);
    await writeFile(join(staging, SITE_MARKER), JSON.stringify(meta, null, 2) + '\n');
    written.push(SITE_MARKER);
    if (!(await statOrNull(out))) {
      await rename(staging, out);
      return written;
    }
    const old = join(parent, `.${basename(out)}.old-${tag}`);
    try {
      await rename(out, old);
    } catch {
      // The folder itself cannot move (a mount point, a busy directory on some systems):
      // replace its contents instead.
      for (const e of await readdir(out)) await rm(join(out, e), { recursive: true, force: true });
      for (const e of await readdir(staging)) await rename(join(staging, e), join(out, e));
      return written;
    }
    try {
      await rename(staging, out);
    } catch (e) {
      await rename(old, out).catch(() => undefined);
      throw e;
    }
    await rm(old, { recursive: true, force: true });
    return written;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
