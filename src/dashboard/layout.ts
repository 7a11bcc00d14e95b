// The page shell: landmarks, navigation, breadcrumbs, footer, the inline stylesheet and (on
// pages with sortable tables) the inline sort script. A Content-Security-Policy allows exactly
// those two inline blocks by hash and nothing else: no request leaves the page, and markup that
// slipped through escaping still could not run a script.
import { createHash } from 'node:crypto';
import { html, joinHtml, raw, type SafeHtml } from './html.js';
import { relHref, sitePaths } from './site-paths.js';
import { SORT_SCRIPT } from './sort-script.js';
import { STYLE } from './style.js';
import { fmtTime } from './format.js';

const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
const STYLE_HASH = sha(STYLE);
const SCRIPT_HASH = sha(SORT_SCRIPT);

export interface Crumb {
  label: string;
  /** Site path, or null for the current page. */
  path: string | null;
}

export interface PageShell {
  /** Site path of this page (links are made relative to it). */
  path: string;
  title: string;
  /** Pages under the site's nav, for aria-current. */
  section: 'overview' | 'datasets' | string;
  crumbs: Crumb[];
  body: SafeHtml;
  /** Include the sort script (pages with a data-sortable table). */
  sortable?: boolean;
}

export interface SiteInfo {
  models: string[];
  generated_at: string;
  head: { commit: string | null; branch: string | null };
  tool_version: string;
}

/** Most models listed in the top navigation; beyond it the overview lists them. */
const NAV_MODELS = 12;

export function renderPage(page: PageShell, site: SiteInfo): string {
  const href = (to: string) => relHref(page.path, to);
  const current = (section: string) => (page.section === section ? raw(' aria-current="page"') : '');
  const navModels = site.models.slice(0, NAV_MODELS).map((m) => html`<a href="${href(sitePaths.model(m))}"${current(m)}>${m}</a>`);
  const crumbs = page.crumbs.length
    ? html`<nav class="crumbs" aria-label="Breadcrumb"><ol>${page.crumbs.map((c) =>
        c.path ? html`<li><a href="${href(c.path)}">${c.label}</a></li>` : html`<li><span aria-current="page">${c.label}</span></li>`,
      )}</ol></nav>`
    : '';
  const csp = `default-src 'none'; style-src ${STYLE_HASH}; script-src ${page.sortable ? SCRIPT_HASH : "'none'"}; img-src data:; base-uri 'none'; form-action 'none'`;
  const commit = site.head.commit ? site.head.commit.slice(0, 12) : 'no commit';
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="mlops ${site.tool_version}">
<title>${page.title} · mlops registry</title>
<link rel="icon" href="data:,">
<style>${raw(STYLE)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
<nav aria-label="Site">
<a class="brand" href="${href(sitePaths.overview)}"${current('overview')}>mlops registry</a>
${joinHtml(navModels, '\n')}
<a href="${href(sitePaths.datasets)}"${current('datasets')}>Datasets</a>
</nav>
</header>
<main id="main" tabindex="-1">
${crumbs}
${page.body}
</main>
<footer>
<p>Generated ${fmtTime(site.generated_at)} from ${site.head.branch ? html`branch <code>${site.head.branch}</code>, ` : ''}commit <code>${commit}</code> by mlops ${site.tool_version}. Every figure comes from the registry's files and <code>git log</code>; the pages change nothing.</p>
</footer>
${page.sortable ? html`<div id="sort-status" class="sr-only" role="status" aria-live="polite"></div>\n<script>${raw(SORT_SCRIPT)}</script>\n` : ''}</body>
</html>
`;
  return doc.value;
}
