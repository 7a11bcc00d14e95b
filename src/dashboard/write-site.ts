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

/** Writes files with a bounded number in flight (thousands of version pages). */
async function writeAll(root: string, files: SiteFile[]): Promise<void> {
  const dirs = new Set<string>();
  for (const f of files) dirs.add(dirname(join(root, f.path)));
  for (const d of [...dirs].sort()) await mkdir(d, { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]!;
      await writeFile(join(root, f.path), f.content);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, files.length) }, worker));
}

export async function writeSite(outDir: string, files: SiteFile[], meta: Record<string, unknown>): Promise<void> {
  const out = resolve(outDir);
  await checkOutDir(out);
  const parent = dirname(out);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const staging = join(parent, `.${basename(out)}.building-${tag}`);
  try {
    await writeAll(staging, [...files, { path: SITE_MARKER, content: JSON.stringify(meta, null, 2) + '\n' }]);
    if (!(await statOrNull(out))) {
      await rename(staging, out);
      return;
    }
    const old = join(parent, `.${basename(out)}.old-${tag}`);
    try {
      await rename(out, old);
    } catch {
      // The folder itself cannot move (a mount point, a busy directory on some systems):
      // replace its contents instead.
      for (const e of await readdir(out)) await rm(join(out, e), { recursive: true, force: true });
      for (const e of await readdir(staging)) await rename(join(staging, e), join(out, e));
      return;
    }
    try {
      await rename(staging, out);
    } catch (e) {
      await rename(old, out).catch(() => undefined);
      throw e;
    }
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
