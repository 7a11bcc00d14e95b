// A model's page: what serves, how the primary metric moved across versions, every version with
// its derived status (the table `mlops list` prints, sortable), and the recent pointer moves.
import type { VersionRow } from '../../app/read.js';
import { badge, dataTable, errorNotice } from '../components.js';
import { fmtInt, fmtMetric, fmtPct, hashTag, timeTag, versionSortKey } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { relHref, sitePaths } from '../site-paths.js';
import { chartFigure, legend, lineChart } from '../svg-chart.js';
import type { ModelView } from '../types.js';
import { movesTable } from './moves-table.js';

/** Moves shown on the model page; the history page has all of them. */
export const RECENT_MOVES = 25;

const STATUS_RANK: Record<string, number> = { production: 0, canary: 1, staging: 2, deprecated: 3, archived: 4 };
const METRIC_ORDER = ['auc', 'accuracy', 'log_loss'];

/** Metric names of the rows: the usual ones first, then the rest alphabetically. */
export function metricColumns(rows: VersionRow[]): string[] {
  const names = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.metrics)) names.add(k);
  return [...METRIC_ORDER.filter((k) => names.has(k)), ...[...names].filter((k) => !METRIC_ORDER.includes(k)).sort()];
}

function metricChart(m: ModelView, metric: string): SafeHtml | '' {
  const rows = [...m.rows].filter((r) => typeof r.metrics[metric] === 'number').sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  if (rows.length < 2) return '';
  const every = Math.max(1, Math.ceil(rows.length / 8));
  const ticks = rows.map((r, i) => ({ x: i, label: r.version })).filter((_, i) => i % every === 0);
  const chart = lineChart({
    id: `metric-${metric}`,
    title: `${metric} of each version of ${m.name}, in order of registration`,
    desc: `${rows.length} versions from ${rows[0]!.version} (${fmtMetric(rows[0]!.metrics[metric])}) to ${rows[rows.length - 1]!.version} (${fmtMetric(rows[rows.length - 1]!.metrics[metric])}).`,
    series: [{ label: metric, cls: 's-metric', points: rows.map((r, i) => ({ x: i, y: r.metrics[metric] as number, note: `${r.version} (${r.status}): ${metric} ${fmtMetric(r.metrics[metric])}` })) }],
    x: { label: 'version, in order of registration', ticks, min: 0, max: rows.length - 1 },
    y: { label: metric, format: (v) => v.toFixed(3) },
  });
  return chartFigure({ caption: `Test ${metric === 'auc' ? 'AUC' : metric} by version`, chart, note: 'The same figures are in the versions table below.' });
}

export function renderModelPage(m: ModelView): SafeHtml {
  const page = sitePaths.model(m.name);
  const href = (to: string) => relHref(page, to);
  if (m.error) return html`<h1>${m.name}</h1>${errorNotice('This model could not be read', m.error)}`;
  const d = m.deployments!;
  const metrics = metricColumns(m.rows);
  const link = (v: string) => html`<a href="${href(sitePaths.version(m.name, v))}">${v}</a>`;
  const rows = m.rows.map(
    (r) => html`<tr data-version="${r.version}">
<th scope="row" data-value="${versionSortKey(r.version)}">${link(r.version)}</th>
<td data-col="status" data-value="${STATUS_RANK[r.status] ?? 9}">${badge(r.status)}${r.weight !== null ? html` <span class="muted">${fmtPct(r.weight, 0)}</span>` : ''}</td>
<td data-col="created" data-value="${r.created_at}">${timeTag(r.created_at)}</td>
<td data-col="dataset" data-value="${r.dataset.name}">${r.dataset.name}<br>${hashTag(r.dataset.sha256)}</td>
<td data-col="rows" class="num" data-value="${r.dataset.rows ?? ''}">${fmtInt(r.dataset.rows)}</td>
<td data-col="schema">${r.schema}</td>
<td data-col="trainer">${r.trainer}</td>
${metrics.map((k) => html`<td data-col="metric-${k}" class="num" data-value="${r.metrics[k] ?? ''}">${fmtMetric(r.metrics[k])}</td>`)}
<td data-col="reason">${r.reason ?? ''}</td>
</tr>`,
  );
  const known = new Set(m.rows.map((r) => r.version));
  const recent = m.history.slice(0, RECENT_MOVES);
  return html`<h1>${m.name}</h1>
${m.doc?.description ? html`<p class="lead">${m.doc.description}</p>` : ''}
<dl class="facts">
<dt>Production</dt><dd data-field="production">${d.production ? link(d.production) : html`<span class="muted">none</span>`}</dd>
<dt>Canary</dt><dd data-field="canary">${d.canary ? html`${link(d.canary.version)} at ${fmtPct(d.canary.weight, 0)} since ${timeTag(d.canary.started_at)} · <a href="${href(sitePaths.canary(m.name))}">canary analysis</a>` : html`<span class="muted">none</span> · <a href="${href(sitePaths.canary(m.name))}">past canaries</a>`}</dd>
<dt>Task</dt><dd>${m.doc?.task ?? '–'}</dd>
<dt>Schema</dt><dd>${m.doc?.schema_version ?? '–'}</dd>
${m.doc?.owners?.length ? html`<dt>Owners</dt><dd>${m.doc.owners.join(', ')}</dd>` : ''}
</dl>
${metrics.includes('auc') ? metricChart(m, 'auc') : metrics[0] ? metricChart(m, metrics[0]) : ''}
<section aria-labelledby="versions"><h2 id="versions">Versions</h2>
<p class="muted">Status is derived from deployments.yaml and each manifest's lifecycle, as <code>mlops list</code> shows it. Select a column header to sort.</p>
${dataTable({
  id: 'versions-table',
  caption: `${m.rows.length} version${m.rows.length === 1 ? '' : 's'} of ${m.name}, newest first`,
  sortable: true,
  columns: [
    { label: 'Version' },
    { label: 'Status' },
    { label: 'Created' },
    { label: 'Dataset' },
    { label: 'Rows', num: true },
    { label: 'Schema' },
    { label: 'Trainer' },
    ...metrics.map((k) => ({ label: k, num: true })),
    { label: 'Lifecycle reason' },
  ],
  rows,
  empty: `No version of ${m.name} is registered yet.`,
})}
</section>
<section aria-labelledby="timeline"><h2 id="timeline">Pointer timeline</h2>
<p class="muted">Every commit that changed <code>registry/${m.name}/deployments.yaml</code>, from <code>git log</code>: promotions, canary starts, rollbacks and reverts, including those made by hand. ${m.history.length > recent.length ? html`The latest ${recent.length} of ${fmtInt(m.history.length)}; <a href="${href(sitePaths.history(m.name))}">the full history</a>.` : html`<a href="${href(sitePaths.history(m.name))}">History page</a>.`}</p>
${movesTable({ id: 'moves-table', caption: `Latest pointer moves of ${m.name}`, model: m.name, moves: recent, page, known })}
</section>`;
}

export function renderHistoryPage(m: ModelView): SafeHtml {
  const page = sitePaths.history(m.name);
  const known = new Set(m.rows.map((r) => r.version));
  const counts = new Map<string, number>();
  for (const x of m.history) counts.set(x.kind, (counts.get(x.kind) ?? 0) + 1);
  return html`<h1>History of ${m.name}</h1>
<p class="lead">${fmtInt(m.history.length)} commits changed <code>registry/${m.name}/deployments.yaml</code>${counts.size ? html`: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}` : ''}.</p>
${m.error ? errorNotice('This model could not be read', m.error) : ''}
${movesTable({ id: 'history-table', caption: `All pointer moves of ${m.name}, newest first`, model: m.name, moves: m.history, page, known, sortable: true })}`;
}
