// Where each page lives in the site, and links between pages as relative paths, so the site
// works from any folder: a GitHub Pages project path, a file:// URL, or `mlops serve` at `/`.
// Model names and versions are [a-z0-9-] and vX.Y.Z by the registry's rules, safe in paths.

export const sitePaths = {
  overview: 'index.html',
  datasets: 'datasets.html',
  model: (model: string) => `models/${model}/index.html`,
  history: (model: string) => `models/${model}/history.html`,
  canary: (model: string) => `models/${model}/canary.html`,
  version: (model: string, version: string) => `models/${model}/versions/${version}.html`,
};

/**
 * The relative href from the page at `from` to the page at `to`. Both are site paths (relative,
 * forward slashes, no `.` or `..`), so the common folders are cut by hand: path.relative would
 * resolve both against the working directory, and a site makes tens of thousands of links.
 */
export function relHref(from: string, to: string): string {
  const a = from.split('/');
  const b = to.split('/');
  a.pop(); // the page's own file name
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  return '../'.repeat(a.length - i) + b.slice(i).join('/');
}
