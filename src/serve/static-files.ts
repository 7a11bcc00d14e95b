// Serves a folder of static files under `/` (the dashboard): GET and HEAD only, `index.html`
// for a folder, no directory listings, nothing outside the folder (`..`, encoded slashes, NUL
// and symlinks that lead out are refused).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** The file a URL path names inside `root`, or null when it is not a servable file. */
export async function resolveStaticFile(root: string, urlPath: string): Promise<{ path: string; size: number; mtime: Date } | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.')) return null;
  let base: string;
  try {
    base = await realpath(root);
  } catch {
    return null;
  }
  let path = join(base, ...parts);
  try {
    let st = await stat(path);
    if (st.isDirectory()) {
      path = join(path, 'index.html');
      st = await stat(path);
    }
    if (!st.isFile()) return null;
    const real = await realpath(path);
    if (real !== base && !real.startsWith(base + sep)) return null; // a symlink out of the folder
    return { path: real, size: st.size, mtime: st.mtime };
  } catch {
    return null;
  }
}

/** Answers a GET/HEAD from the folder; false when there is no such file (the caller sends 404). */
export async function serveStatic(root: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const file = await resolveStaticFile(root, urlPath);
  if (!file) return false;
  res.writeHead(200, {
    'content-type': TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'content-length': file.size,
    'last-modified': file.mtime.toUTCString(),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((resolve) => {
    const s = createReadStream(file.path);
    s.on('error', () => {
      res.destroy();
      resolve();
    });
    s.on('end', resolve);
    s.pipe(res);
  });
  return true;
}
