// Renders every page of the site from the gathered data. Pure: the same data gives the same
// bytes, so a build can be compared with the previous one and tested without a browser. Pages
// are produced one at a time, so a writer can write each while the next is rendered and a
// thousand pages are never all held in memory at once.
import { toYaml } from '../util/yaml.js';
import type { SafeHtml } from './html.js';
import { renderPage, type Crumb, type SiteInfo } from './layout.js';
import { renderCanaryPage } from './pages/canary-page.js';
import { renderDatasetsPage } from './pages/datasets-page.js';
import { renderHistoryPage, renderModelPage } from './pages/model-page.js';
import { renderOverviewPage } from './pages/overview-page.js';
import { movesByVersion, renderVersionPage } from './pages/version-page.js';
import { sitePaths } from './site-paths.js';
import type { DashboardData, PageKind, RenderedPage } from './types.js';

export function* renderPages(data: DashboardData): Generator<RenderedPage> {
  const site: SiteInfo = { models: data.models.map((m) => m.name), generated_at: data.generated_at, head: data.head, tool_version: data.tool_version };
  const page = (kind: PageKind, path: string, title: string, section: string, crumbs: Crumb[], body: SafeHtml, sortable = false): RenderedPage => ({
    path,
    kind,
    title,
    html: renderPage({ path, title, section, crumbs, body, sortable }, site),
  });
  const home: Crumb = { label: 'Registry', path: sitePaths.overview };
  yield page('overview', sitePaths.overview, 'Overview', 'overview', [], renderOverviewPage(data));
  yield page('datasets', sitePaths.datasets, 'Datasets', 'datasets', [home, { label: 'Datasets', path: null }], renderDatasetsPage(data), data.datasets.some((d) => d.shards.length > 0));
  const datasets = new Map(data.datasets.map((d) => [d.name, d]));
  for (const m of data.models) {
    const modelCrumb: Crumb = { label: m.name, path: sitePaths.model(m.name) };
    yield page('model', sitePaths.model(m.name), m.name, m.name, [home, { label: m.name, path: null }], renderModelPage(m), m.rows.length > 0);
    yield page('history', sitePaths.history(m.name), `History of ${m.name}`, m.name, [home, modelCrumb, { label: 'History', path: null }], renderHistoryPage(m), m.history.length > 0);
    yield page('canary', sitePaths.canary(m.name), `Canary of ${m.name}`, m.name, [home, modelCrumb, { label: 'Canary', path: null }], renderCanaryPage(m));
    const moves = movesByVersion(m.history);
    const rows = new Map(m.rows.map((r) => [r.version, r]));
    const known = new Set(rows.keys());
    for (const show of m.versions) {
      const body = renderVersionPage({
        model: m,
        show,
        dataset: datasets.get(show.manifest.dataset.name),
        manifestYaml: m.manifest_texts.get(show.version) ?? toYaml(show.manifest),
        moves: moves.get(show.version) ?? [],
        known,
        row: rows.get(show.version),
      });
      yield page('version', sitePaths.version(m.name, show.version), `${m.name}@${show.version}`, m.name, [home, modelCrumb, { label: show.version, path: null }], body);
    }
  }
}

/** Every page, in memory. */
export function renderSite(data: DashboardData): RenderedPage[] {
  return [...renderPages(data)];
}
