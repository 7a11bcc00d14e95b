// The datasets page: for each locked dataset, its rows per week split by outcome (from the
// shards' rows when they were read, else by the week each shard was sealed, and the page says
// which), and every shard with its hash, size and state.
import { badge, dataTable, errorNotice, notice } from '../components.js';
import { fmtBytes, fmtInt, fmtPct, hashTag, timeTag, weekStart } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { barChart, chartFigure, legend } from '../svg-chart.js';
import type { DashboardData, DatasetView, OutcomeMix } from '../types.js';

const WEEK_MS = 7 * 86_400_000;
/** Empty weeks are filled in between the first and last only over a sane span. */
const MAX_FILLED_WEEKS = 520;

export interface WeekTotal {
  week: string;
  mix: OutcomeMix | null;
  rows: number;
}

/** Rows per week: by outcome timestamp and result when every shard was read, else by sealing week. */
export function weeklyRows(ds: DatasetView): WeekTotal[] {
  const by = new Map<string, WeekTotal>();
  const get = (week: string, withMix: boolean) => {
    let w = by.get(week);
    if (!w) by.set(week, (w = { week, mix: withMix ? { success: 0, failure: 0, error: 0 } : null, rows: 0 }));
    return w;
  };
  if (ds.mix === 'complete') {
    for (const sh of ds.shards) {
      for (const wk of sh.weeks ?? []) {
        const w = get(wk.week, true);
        w.mix!.success += wk.mix.success;
        w.mix!.failure += wk.mix.failure;
        w.mix!.error += wk.mix.error;
        w.rows += wk.mix.success + wk.mix.failure + wk.mix.error;
      }
    }
  } else {
    for (const sh of ds.shards) {
      const ms = Date.parse(sh.created_at);
      if (!Number.isFinite(ms)) continue;
      get(weekStart(ms), false).rows += sh.rows;
    }
  }
  const weeks = [...by.values()].sort((a, b) => (a.week < b.week ? -1 : 1));
  if (weeks.length < 2) return weeks;
  const first = Date.parse(`${weeks[0]!.week}T00:00:00Z`);
  const last = Date.parse(`${weeks[weeks.length - 1]!.week}T00:00:00Z`);
  if ((last - first) / WEEK_MS > MAX_FILLED_WEEKS) return weeks;
  const filled: WeekTotal[] = [];
  for (let t = first; t <= last; t += WEEK_MS) {
    const week = new Date(t).toISOString().slice(0, 10);
    filled.push(by.get(week) ?? { week, mix: ds.mix === 'complete' ? { success: 0, failure: 0, error: 0 } : null, rows: 0 });
  }
  return filled;
}

function datasetSection(ds: DatasetView): SafeHtml {
  const weeks = weeklyRows(ds);
  const complete = ds.mix === 'complete';
  const chart = weeks.length
    ? chartFigure({
        caption: complete ? `Rows of ${ds.name} per week, by outcome` : `Rows of ${ds.name} per week of sealing`,
        chart: barChart({
          id: `weeks-${ds.name}`,
          title: complete ? `Rows of ${ds.name} per week of their timestamp, split into success, failure and error` : `Rows of ${ds.name} sealed per week`,
          desc: `${weeks.length} weeks from ${weeks[0]!.week} to ${weeks[weeks.length - 1]!.week}; ${fmtInt(weeks.reduce((n, w) => n + w.rows, 0))} rows in all.`,
          bars: weeks.map((w) => ({
            label: w.week.slice(5),
            parts: w.mix
              ? [
                  { label: 'success', cls: 'bar-success', value: w.mix.success },
                  { label: 'failure', cls: 'bar-failure', value: w.mix.failure },
                  { label: 'error', cls: 'bar-error', value: w.mix.error },
                ]
              : [{ label: 'rows', cls: 'bar-rows', value: w.rows }],
          })),
          y: { label: 'rows', format: (v) => fmtInt(v) },
          x: { label: complete ? 'week (Monday, UTC) of the outcome timestamp' : 'week (Monday, UTC) the shard was sealed' },
        }),
        legend: complete
          ? legend([
              { label: 'success', cls: 'bar-success', shape: 'box' },
              { label: 'failure', cls: 'bar-failure', shape: 'box' },
              { label: 'error', cls: 'bar-error', shape: 'box' },
            ])
          : undefined,
        table: dataTable({
          id: `weeks-${ds.name}-data`,
          caption: `Rows of ${ds.name} per week`,
          columns: complete
            ? [{ label: 'Week of' }, { label: 'Success', num: true }, { label: 'Failure', num: true }, { label: 'Error', num: true }, { label: 'Rows', num: true }, { label: 'Success share', num: true }]
            : [{ label: 'Week of' }, { label: 'Rows', num: true }],
          rows: weeks.map((w) =>
            w.mix
              ? html`<tr data-week="${w.week}"><td>${w.week}</td><td class="num">${fmtInt(w.mix.success)}</td><td class="num">${fmtInt(w.mix.failure)}</td><td class="num">${fmtInt(w.mix.error)}</td><td class="num">${fmtInt(w.rows)}</td><td class="num">${w.rows ? fmtPct(w.mix.success / w.rows, 1) : '–'}</td></tr>`
              : html`<tr data-week="${w.week}"><td>${w.week}</td><td class="num">${fmtInt(w.rows)}</td></tr>`,
          ),
        }),
      })
    : '';
  const shardRows = ds.shards.map(
    (s) => html`<tr data-shard="${s.path}"><td><code>${s.path}</code></td><td data-value="${s.created_at}">${timeTag(s.created_at)}</td><td class="num" data-value="${s.rows}">${fmtInt(s.rows)}</td><td class="num" data-value="${s.bytes}">${fmtBytes(s.bytes)}</td><td>${hashTag(s.sha256, 16)}</td><td>${
      s.dropped && Object.keys(s.dropped).length ? Object.entries(s.dropped).map(([k, n]) => `${n} ${k}`).join(', ') : html`<span class="muted">–</span>`
    }</td><td>${badge(s.state)}</td></tr>`,
  );
  return html`<section aria-labelledby="ds-${ds.name}" id="ds-${ds.name}-section"><h2 id="ds-${ds.name}">${ds.name}</h2>
<dl class="facts">
<dt>Rows</dt><dd data-field="merged-rows">${fmtInt(ds.merged.rows)} <span class="muted">(merged, ${ds.merge_strategy})</span></dd>
<dt>Merged SHA-256</dt><dd><code class="hash">${ds.merged.sha256}</code></dd>
<dt>Shards</dt><dd>${fmtInt(ds.shards.length)}</dd>
<dt>Row schema</dt><dd>${ds.schema}</dd>
</dl>
${ds.note ? notice(ds.note) : ''}
${chart}
${dataTable({ id: `shards-${ds.name}`, caption: `Shards of ${ds.name} in datasets.lock, oldest first`, sortable: true, columns: [{ label: 'Shard' }, { label: 'Sealed' }, { label: 'Rows', num: true }, { label: 'Size', num: true }, { label: 'SHA-256', noSort: true }, { label: 'Left out', noSort: true }, { label: 'State' }], rows: shardRows, empty: 'No shard sealed yet.' })}
</section>`;
}

export function renderDatasetsPage(data: DashboardData): SafeHtml {
  return html`<h1>Datasets</h1>
<p class="lead">The sealed shards of <code>datasets.lock</code>: what each retrain was trained on. A shard is immutable and named by its SHA-256.</p>
${data.datasets_error ? errorNotice('datasets.lock could not be read', data.datasets_error) : ''}
${!data.datasets_error && data.datasets.length === 0 ? html`<p class="muted">No dataset is locked yet: <code>mlops data collect</code> seals the outcome store into the first shard.</p>` : ''}
${data.datasets.map(datasetSection)}`;
}
