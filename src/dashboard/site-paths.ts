// Where each page lives in the site, and links between pages as relative paths, so the site
// works from any folder: a GitHub Pages project path, a file:// URL, or `mlops serve` at `/`.
// Model names and versions are [a-z0-9-] and vX.Y.Z by the registry's rules, safe in paths.
import { posix } from 'node:path';

export const sitePaths = {
  overview: 'index.html',
  datasets: 'datasets.html',
  model: (model: string) => `models/${model}/index.html`,
  history: (model: string) => `models/${model}/history.html`,
  canary: (model: string) => `models/${model}/canary.html`,
  version: (model: string, version: string) => `models/${model}/versions/${version}.html`,
};

/** The relative href from the page at `from` to the page at `to` (both site paths). */
export function relHref(from: string, to: string): string {
  const rel = posix.relative(posix.dirname(from), to);
  return rel === '' ? posix.basename(to) : rel;
}
