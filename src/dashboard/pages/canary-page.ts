// The canary page: the running canary's verdict with the numbers `mlops canary analyze --json`
// prints (n, k, rate and Λ of each stream, the bounds), the hourly success rate, error rate and
// latency of canary against production, and each stream's Λ over time against its promote
// (ln β) and rollback (ln 1/α) bounds, so a reader sees why the verdict is what it is.
import type { CanaryAnalysis } from '../../app/canary-check.js';
import type { HourlyBucket, SeriesHour, TrajectoryPoint } from '../../canary/aggregate.js';
import type { StreamVerdict } from '../../canary/decide.js';
import type { StreamName } from '../../canary/sprt.js';
import { badge, dataTable, errorNotice, notice } from '../components.js';
import { fmtFixed, fmtInt, fmtPct, timeTag } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { relHref, sitePaths } from '../site-paths.js';
import { chartFigure, legend, lineChart, niceTicks, type ChartRule, type ChartSeries } from '../svg-chart.js';
import type { CanaryView, ModelView } from '../types.js';

const STREAMS: readonly StreamName[] = ['S', 'E', 'Lup', 'Ldown'];
const STREAM_LABEL: Record<StreamName, string> = {
  S: 'S: not a success',
  E: 'E: errors',
  Lup: 'L↑: latency over the canary bound',
  Ldown: 'L↓: latency over the rollback bound',
};
const ROLE: Record<StreamVerdict['role'], string> = { both: 'promote and roll back', promote: 'promote only', rollback: 'roll back only' };
const CANARY_DASH = undefined;
const PROD_DASH = '6 4';

function hourTicks(maxHours: number): Array<{ x: number; label: string }> {
  return niceTicks(0, maxHours, 6)
    .filter((t) => t >= 0 && t <= maxHours && Number.isInteger(t))
    .map((t) => ({ x: t, label: `${t} h` }));
}

function verdictSection(a: CanaryAnalysis): SafeHtml {
  const v = a.verdict;
  const rows = STREAMS.map((s) => {
    const x = v.streams[s];
    const num = (value: number | null, text: string) => html`<td class="num" data-value="${value === null ? '' : String(value)}">${text}</td>`;
    return html`<tr data-stream="${s}">
<th scope="row">${STREAM_LABEL[s]}</th>
<td>${ROLE[x.role]}</td>
${num(x.n, fmtInt(x.n))}${num(x.k, fmtInt(x.k))}${num(x.rate, fmtPct(x.rate))}${num(x.p_good, fmtPct(x.p_good, 1))}${num(x.p_bad, fmtPct(x.p_bad, 1))}
<td class="num" data-col="llr" data-value="${String(x.llr)}">${x.llr.toFixed(3)}</td>
${num(x.promote_bound, fmtFixed(x.promote_bound, 3))}${num(x.rollback_bound, fmtFixed(x.rollback_bound, 3))}
<td data-col="state">${badge(x.state, x.state === 'no-data' ? 'grey' : x.state)}</td>
</tr>`;
  });
  return html`<section aria-labelledby="verdict"><h2 id="verdict">Verdict</h2>
<p class="verdict" data-verdict="${v.verdict}">${badge(v.verdict)} <span class="muted">${v.method === 'sprt' ? 'sequential test' : 'threshold method'}, ${fmtFixed(v.elapsed_hours, 1)} h of a ${fmtInt(v.window_hours)} h window, evaluated at ${timeTag(v.at)}</span></p>
<ul class="reasons">${v.reasons.map((r) => html`<li>${r}</li>`)}</ul>
${dataTable({
  id: 'streams-table',
  caption: html`Streams of the canary since ${timeTag(v.started_at)}: Λ = k·ln(p_bad/p_good) + (n−k)·ln((1−p_bad)/(1−p_good)); promote when S, E and L↑ reach Λ ≤ ln β = ${fmtFixed(Math.log(v.beta), 3)} with n ≥ ${fmtInt(v.min_samples)} after the window, roll back as soon as S, E or L↓ reach Λ ≥ ln(1/α) = ${fmtFixed(Math.log(1 / v.alpha), 3)}`,
  columns: [
    { label: 'Stream' },
    { label: 'Role' },
    { label: 'n', num: true },
    { label: 'k', num: true },
    { label: 'Rate', num: true },
    { label: 'Good rate', num: true, title: 'event rate of a healthy canary (H0)' },
    { label: 'Bad rate', num: true, title: 'event rate of a canary to roll back (H1)' },
    { label: 'Λ', num: true },
    { label: 'Promote at Λ ≤', num: true },
    { label: 'Roll back at Λ ≥', num: true },
    { label: 'State' },
  ],
  rows,
})}
</section>`;
}

function productionSection(a: CanaryAnalysis): SafeHtml | '' {
  const p = a.production_streams;
  if (!p) return '';
  const rows = STREAMS.map((s) => {
    const c = a.verdict.streams[s];
    const x = p[s];
    return html`<tr data-stream="${s}"><th scope="row">${STREAM_LABEL[s]}</th><td class="num">${fmtInt(c.n)}</td><td class="num">${fmtPct(c.rate)}</td><td class="num">${fmtInt(x.n)}</td><td class="num">${fmtPct(x.n > 0 ? x.k / x.n : null)}</td></tr>`;
  });
  return dataTable({
    id: 'compare-table',
    caption: `Event rates of the canary and of production ${a.production ?? ''} over the same window (production is shown for comparison; the verdict judges the canary against the configured rates)`,
    columns: [{ label: 'Stream' }, { label: 'Canary n', num: true }, { label: 'Canary rate', num: true }, { label: 'Production n', num: true }, { label: 'Production rate', num: true }],
    rows,
  });
}

function seriesOf(hourly: HourlyBucket[], pick: (h: SeriesHour) => number | null, which: 'canary' | 'production'): ChartSeries['points'] {
  return hourly.map((b) => {
    const s = which === 'canary' ? b.canary : b.production;
    const y = s ? pick(s) : null;
    return { x: b.hour + 0.5, y, note: `hour ${b.hour} (${b.start.slice(11, 16)} UTC), ${which}: ${y === null ? 'no data' : ''}` };
  });
}

function hourlyCharts(a: CanaryAnalysis, view: CanaryView): SafeHtml {
  const agg = a.aggregate!;
  const hourly = agg.hourly;
  const maxX = Math.max(a.verdict.window_hours, hourly.length);
  const ticks = hourTicks(maxX);
  const t = view.thresholds;
  const withProd = hourly.some((b) => b.production !== null);
  const q = Math.round(agg.quantile * 100);
  const make = (o: {
    id: string;
    caption: string;
    title: string;
    pick: (h: SeriesHour) => number | null;
    fmt: (v: number) => string;
    yLabel: string;
    rules: ChartRule[];
    min?: number;
    max?: number;
  }) => {
    const series: ChartSeries[] = [{ label: `canary ${a.version}`, cls: 's-canary', dash: CANARY_DASH, points: seriesOf(hourly, o.pick, 'canary').map((p) => ({ ...p, note: `${p.note}${p.y === null ? '' : o.fmt(p.y)}` })) }];
    if (withProd) series.push({ label: `production ${a.production ?? ''}`, cls: 's-production', dash: PROD_DASH, points: seriesOf(hourly, o.pick, 'production').map((p) => ({ ...p, note: `${p.note}${p.y === null ? '' : o.fmt(p.y)}` })) });
    const chart = lineChart({
      id: o.id,
      title: o.title,
      desc: `Hourly values over ${hourly.length} hours since the canary started; ${o.rules.map((r) => r.label).join('; ')}.`,
      series,
      rules: o.rules,
      x: { label: 'hours since the canary started', ticks, min: 0, max: maxX },
      y: { label: o.yLabel, format: o.fmt, min: o.min, max: o.max },
    });
    const rows = hourly.map(
      (b) => html`<tr><td data-value="${b.hour}">${b.hour}</td><td>${timeTag(b.start)}</td><td class="num">${fmtInt(b.canary.n)}</td><td class="num">${o.pick(b.canary) === null ? '–' : o.fmt(o.pick(b.canary)!)}</td>${withProd ? html`<td class="num">${fmtInt(b.production?.n ?? 0)}</td><td class="num">${b.production && o.pick(b.production) !== null ? o.fmt(o.pick(b.production)!) : '–'}</td>` : ''}</tr>`,
    );
    const table = dataTable({
      id: `${o.id}-data`,
      caption: o.caption,
      columns: [{ label: 'Hour', num: true }, { label: 'Starts' }, { label: 'Canary n', num: true }, { label: 'Canary', num: true }, ...(withProd ? [{ label: 'Production n', num: true }, { label: 'Production', num: true }] : [])],
      rows,
    });
    return chartFigure({
      caption: o.caption,
      chart,
      legend: legend([
        { label: `canary ${a.version}`, cls: 's-canary', shape: 'line' },
        ...(withProd ? [{ label: `production ${a.production ?? ''}`, cls: 's-production', shape: 'line' as const, dash: PROD_DASH }] : []),
        ...o.rules.map((r) => ({ label: r.label, cls: r.cls, shape: 'line' as const, dash: r.cls === 'h-promote' ? '6 4' : '2 3' })),
      ]),
      table,
    });
  };
  const pct = (v: number) => fmtPct(v, 1);
  const ms = (v: number) => `${Number(v.toPrecision(3))} ms`;
  return html`<section aria-labelledby="hourly"><h2 id="hourly">Canary against production, hour by hour</h2>
<p class="muted">From the outcome store (<code>.mlops/outcomes</code>), each task counted once, bucketed by hour since the canary started. Dashed horizontal lines are the configured canary (green) and rollback (red) thresholds.</p>
<div class="charts">
${make({ id: 'success-rate', caption: 'Success rate per hour', title: `Hourly success rate of canary ${a.version}${withProd ? ` and production ${a.production}` : ''}`, pick: (h) => h.success_rate, fmt: pct, yLabel: 'success rate', rules: [{ y: t.canary.min_success_rate, label: `canary target ${pct(t.canary.min_success_rate)}`, cls: 'h-promote' }, { y: t.rollback.min_success_rate, label: `rollback below ${pct(t.rollback.min_success_rate)}`, cls: 'h-rollback' }], max: 1 })}
${make({ id: 'error-rate', caption: 'Error rate per hour', title: `Hourly error rate of canary ${a.version}${withProd ? ` and production ${a.production}` : ''}`, pick: (h) => h.error_rate, fmt: pct, yLabel: 'error rate', rules: [{ y: t.canary.max_error_rate, label: `canary limit ${pct(t.canary.max_error_rate)}`, cls: 'h-promote' }, { y: t.rollback.max_error_rate, label: `rollback above ${pct(t.rollback.max_error_rate)}`, cls: 'h-rollback' }], min: 0 })}
${make({ id: 'latency', caption: `Response time, ${q}th percentile per hour`, title: `Hourly ${q}th percentile response time of canary ${a.version}${withProd ? ` and production ${a.production}` : ''}`, pick: (h) => h.latency_quantile_ms, fmt: ms, yLabel: `p${q} response time (ms)`, rules: [{ y: agg.bounds.up, label: `canary bound ${ms(agg.bounds.up)}`, cls: 'h-promote' }, { y: agg.bounds.down, label: `rollback bound ${ms(agg.bounds.down)}`, cls: 'h-rollback' }], min: 0 })}
${make({ id: 'volume', caption: 'Records per hour', title: `Outcome records per hour of canary ${a.version}${withProd ? ` and production ${a.production}` : ''}`, pick: (h) => h.n, fmt: (v) => fmtInt(v), yLabel: 'records', rules: [], min: 0 })}
</div>
</section>`;
}

function trajectoryCharts(a: CanaryAnalysis, trajectory: TrajectoryPoint[]): SafeHtml {
  const v = a.verdict;
  const maxX = Math.max(v.window_hours, trajectory.length);
  const ticks = hourTicks(maxX);
  const startMs = Date.parse(v.started_at);
  const figures = STREAMS.map((s) => {
    const sv = v.streams[s];
    const rules: ChartRule[] = [];
    if (sv.promote_bound !== null) rules.push({ y: sv.promote_bound, label: `promote: ln β = ${sv.promote_bound.toFixed(3)}`, cls: 'h-promote' });
    if (sv.rollback_bound !== null) rules.push({ y: sv.rollback_bound, label: `roll back: ln(1/α) = ${sv.rollback_bound.toFixed(3)}`, cls: 'h-rollback' });
    // Λ at the start (0), at the end of each full hour, and at the evaluation instant (the verdict's own value).
    const points = [{ x: 0, y: 0, note: 'start: Λ = 0' }, ...trajectory.map((p) => ({ x: Math.max(0, (Date.parse(p.at) - startMs) / 3_600_000), y: p.streams[s].llr, note: `${p.at.slice(0, 16).replace('T', ' ')} UTC: n ${p.streams[s].n}, k ${p.streams[s].k}, Λ ${p.streams[s].llr.toFixed(3)}` }))];
    const chart = lineChart({
      id: `lambda-${s}`,
      title: `Λ of stream ${STREAM_LABEL[s]} over time`,
      desc: `Λ is ${sv.llr.toFixed(3)} after ${sv.n} records with ${sv.k} events (${sv.state}). ${rules.map((r) => r.label).join('; ')}.`,
      series: [{ label: `Λ ${s}`, cls: `s-${s}`, points }],
      rules,
      x: { label: 'hours since the canary started', ticks, min: 0, max: maxX },
      y: { label: 'Λ', format: (y) => y.toFixed(1) },
      height: 200,
    });
    const rows = trajectory.map(
      (p) => html`<tr><td data-value="${p.hour}">${p.hour}</td><td>${timeTag(p.at)}</td><td class="num">${fmtInt(p.streams[s].n)}</td><td class="num">${fmtInt(p.streams[s].k)}</td><td class="num" data-value="${String(p.streams[s].llr)}">${p.streams[s].llr.toFixed(3)}</td></tr>`,
    );
    return chartFigure({
      caption: `${STREAM_LABEL[s]}: Λ = ${sv.llr.toFixed(3)}, ${sv.state}`,
      chart,
      legend: legend([{ label: `Λ of ${s}`, cls: `s-${s}`, shape: 'line' }, ...rules.map((r) => ({ label: r.label, cls: r.cls, shape: 'line' as const, dash: r.cls === 'h-promote' ? '6 4' : '2 3' }))]),
      table: dataTable({ id: `lambda-${s}-data`, caption: `Cumulative n, k and Λ of ${s} at the end of each hour`, columns: [{ label: 'Hour', num: true }, { label: 'At' }, { label: 'n', num: true }, { label: 'k', num: true }, { label: 'Λ', num: true }], rows }),
    });
  });
  return html`<section aria-labelledby="lambda"><h2 id="lambda">The sequential statistic over time</h2>
<p class="muted">Each stream's log-likelihood ratio Λ as records arrived. A rollback happens the first time S, E or L↓ touches its red line; a promotion needs S, E and L↑ under their green lines (with enough records) once the ${fmtInt(v.window_hours)} h window has passed. The last point of each line is the Λ of the verdict above.</p>
<div class="charts">${figures}</div>
</section>`;
}

function pastCanaries(m: ModelView, page: string): SafeHtml {
  const decisions = m.versions.flatMap((s) => (s.manifest.observed.decisions ?? []).map((d) => ({ s, d })));
  decisions.sort((x, y) => (x.d.at < y.d.at ? 1 : x.d.at > y.d.at ? -1 : 0));
  const rows = decisions.map(
    ({ s, d }) =>
      html`<tr><td data-value="${d.at}">${timeTag(d.at)}</td><td><a href="${relHref(page, sitePaths.version(m.name, s.version))}">${s.version}</a></td><td>${badge(String(d.verdict))}</td><td>${String(d.action)}</td><td>${Array.isArray(d.reasons) ? (d.reasons as unknown[]).map(String).join('; ') : ''}</td></tr>`,
  );
  return html`<section aria-labelledby="past"><h2 id="past">Recorded canary decisions</h2>
${dataTable({ id: 'past-decisions', caption: `Decisions written into the manifests of ${m.name} with each promotion, rollback or weight step, newest first`, columns: [{ label: 'At' }, { label: 'Version' }, { label: 'Verdict' }, { label: 'Action' }, { label: 'Reasons' }], rows, empty: 'No canary decision has been recorded for this model yet.' })}
</section>`;
}

export function renderCanaryPage(m: ModelView): SafeHtml {
  const page = sitePaths.canary(m.name);
  const href = (to: string) => relHref(page, to);
  const d = m.deployments;
  const view = m.canary;
  if (!d?.canary || !view) {
    return html`<h1>Canary of ${m.name}</h1>
${m.error ? errorNotice('This model could not be read', m.error) : html`<p class="lead" data-verdict="none">No canary of ${m.name} is running. ${d?.production ? html`Production is <a href="${href(sitePaths.version(m.name, d.production))}">${d.production}</a>.` : ''}</p>`}
${pastCanaries(m, page)}`;
  }
  const a = view.analysis;
  const v = (version: string) => html`<a href="${href(sitePaths.version(m.name, version))}">${version}</a>`;
  const head = html`<h1>Canary of ${m.name}: ${d.canary.version}</h1>
<dl class="facts">
<dt>Canary</dt><dd>${v(d.canary.version)} at ${fmtPct(d.canary.weight, 0)} of traffic, since ${timeTag(d.canary.started_at)}${
    a && a.effective_started_at !== a.started_at ? html`<br><span class="muted">the window starts ${timeTag(a.effective_started_at)}, when the pointer landed on the base branch</span>` : ''
  }</dd>
<dt>Production</dt><dd>${d.production ? v(d.production) : html`<span class="muted">none</span>`}</dd>
<dt>Metric source</dt><dd>${a ? a.source : view.source}${a?.approximate ? ' (approximate: a counter reset forced an estimate)' : ''}</dd>
</dl>`;
  if (!a) return html`${head}${errorNotice('The canary could not be analysed', view.error!)}${pastCanaries(m, page)}`;
  const agg = a.aggregate;
  const skipped = agg ? agg.skipped.canary.before_start + agg.skipped.canary.future + agg.skipped.canary.duplicate : 0;
  return html`${head}
${a.warnings.length ? html`<div class="notice" role="note"><p><strong>The metric source says</strong></p><ul>${a.warnings.map((w) => html`<li>${w}</li>`)}</ul></div>` : ''}
${verdictSection(a)}
${productionSection(a)}
${agg ? hourlyCharts(a, view) : notice('Hourly series come from the outcome store; with Prometheus as the metric source the page shows the verdict and its counts only.')}
${agg && view.trajectory ? trajectoryCharts(a, view.trajectory) : ''}
${agg && skipped ? html`<p class="muted">Canary records not counted: ${fmtInt(agg.skipped.canary.before_start)} before the start, ${fmtInt(agg.skipped.canary.future)} after the evaluation instant, ${fmtInt(agg.skipped.canary.duplicate)} repeated task ids.</p>` : ''}
${pastCanaries(m, page)}`;
}
