// Charts as inline SVG drawn here (no chart library, nothing fetched): line charts with
// horizontal rules (thresholds, sequential-test bounds) and stacked bar charts. Each chart has
// a <title> and <desc> named by aria-labelledby/aria-describedby; the figure around it carries a
// legend in HTML and the same numbers as a table, for readers who cannot see the drawing.
import { html, type SafeHtml } from './html.js';

export interface ChartPoint {
  x: number;
  /** null: no value (a gap in the line). */
  y: number | null;
  /** Tooltip text of the point's marker. */
  note?: string;
}

export interface ChartSeries {
  label: string;
  /** CSS class of the colour (s-canary, s-production, s-S, ...). */
  cls: string;
  /** SVG stroke-dasharray; series differ by dash as well as colour. */
  dash?: string;
  points: ChartPoint[];
}

export interface ChartRule {
  y: number;
  label: string;
  cls: 'h-promote' | 'h-rollback' | 'h-neutral';
}

export interface LineChartOptions {
  id: string;
  title: string;
  desc: string;
  series: ChartSeries[];
  rules?: ChartRule[];
  x: { label: string; ticks: Array<{ x: number; label: string }>; min: number; max: number };
  y: { label: string; format: (v: number) => string; min?: number; max?: number };
  width?: number;
  height?: number;
}

const M = { top: 14, right: 16, bottom: 40, left: 58 };
/** Markers (with tooltips) only on charts with few points; beyond, the line alone stays legible. */
const MAX_MARKERS = 160;

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Round tick values covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function yDomain(o: LineChartOptions): [number, number] {
  const ys: number[] = [];
  for (const s of o.series) for (const p of s.points) if (p.y !== null && Number.isFinite(p.y)) ys.push(p.y);
  for (const r of o.rules ?? []) ys.push(r.y);
  let lo = o.y.min ?? (ys.length ? Math.min(...ys) : 0);
  let hi = o.y.max ?? (ys.length ? Math.max(...ys) : 1);
  if (o.y.min === undefined && o.y.max === undefined && lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.06;
  if (o.y.min === undefined) lo -= pad;
  if (o.y.max === undefined) hi += pad;
  if (!(hi > lo)) hi = lo + 1;
  return [lo, hi];
}

export function lineChart(o: LineChartOptions): SafeHtml {
  const W = o.width ?? 640;
  const H = o.height ?? 240;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const [y0, y1] = yDomain(o);
  const xSpan = o.x.max > o.x.min ? o.x.max - o.x.min : 1;
  const X = (x: number) => r1(M.left + ((x - o.x.min) / xSpan) * pw);
  const Y = (y: number) => r1(M.top + ph - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * ph);
  const yTicks = niceTicks(y0, y1, 5).filter((t) => t >= y0 && t <= y1);
  const grid = yTicks.map(
    (t) => html`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${Y(t)}" y2="${Y(t)}"/><text x="${M.left - 6}" y="${Y(t) + 4}" text-anchor="end">${o.y.format(t)}</text>`,
  );
  const xTicks = o.x.ticks.map(
    (t) => html`<line class="axis" x1="${X(t.x)}" x2="${X(t.x)}" y1="${M.top + ph}" y2="${M.top + ph + 4}"/><text x="${X(t.x)}" y="${M.top + ph + 16}" text-anchor="middle">${t.label}</text>`,
  );
  const rules = (o.rules ?? []).map(
    (r) =>
      html`<line class="${r.cls}" x1="${M.left}" x2="${W - M.right}" y1="${Y(r.y)}" y2="${Y(r.y)}"><title>${r.label}</title></line><text class="${r.cls}" x="${W - M.right - 4}" y="${Y(r.y) - 4}" text-anchor="end">${r.label}</text>`,
  );
  const totalPoints = o.series.reduce((n, s) => n + s.points.length, 0);
  const series = o.series.map((s) => {
    let d = '';
    let pen = false;
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${X(p.x)} ${Y(p.y)}`;
      pen = true;
    }
    const markers =
      totalPoints <= MAX_MARKERS
        ? s.points
            .filter((p) => p.y !== null && Number.isFinite(p.y))
            .map((p) => html`<circle class="${s.cls}" cx="${X(p.x)}" cy="${Y(p.y!)}" r="2.6"><title>${p.note ?? `${s.label}: ${o.y.format(p.y!)}`}</title></circle>`)
        : '';
    return html`<g><path class="series ${s.cls}" d="${d}"${s.dash ? html` stroke-dasharray="${s.dash}"` : ''}/>${markers}</g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${o.id}-t" aria-describedby="${o.id}-d" focusable="false">
<title id="${o.id}-t">${o.title}</title><desc id="${o.id}-d">${o.desc}</desc>
${grid}${rules}
<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/><line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}"/>
${xTicks}
<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle">${o.x.label}</text>
<text x="12" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${M.top + ph / 2})">${o.y.label}</text>
${series}
</svg>`;
}

export interface BarPart {
  label: string;
  cls: string;
  value: number;
}

export interface BarChartOptions {
  id: string;
  title: string;
  desc: string;
  bars: Array<{ label: string; parts: BarPart[] }>;
  y: { label: string; format: (v: number) => string };
  x: { label: string };
  width?: number;
  height?: number;
}

/** Stacked bars, one per label (weeks), each split into parts (outcome results). */
export function barChart(o: BarChartOptions): SafeHtml {
  const W = o.width ?? 640;
  const H = o.height ?? 240;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const max = Math.max(1, ...o.bars.map((b) => b.parts.reduce((s, p) => s + p.value, 0)));
  const yTicks = niceTicks(0, max, 5);
  const top = Math.max(max, yTicks[yTicks.length - 1]!);
  const Y = (v: number) => r1(M.top + ph - (v / top) * ph);
  const slot = pw / Math.max(1, o.bars.length);
  const bw = Math.max(1, r1(slot * 0.75));
  const every = Math.max(1, Math.ceil(o.bars.length / 10));
  const grid = yTicks.map(
    (t) => html`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${Y(t)}" y2="${Y(t)}"/><text x="${M.left - 6}" y="${Y(t) + 4}" text-anchor="end">${o.y.format(t)}</text>`,
  );
  const bars = o.bars.map((b, i) => {
    const x = r1(M.left + i * slot + (slot - bw) / 2);
    let acc = 0;
    const total = b.parts.reduce((s, p) => s + p.value, 0);
    const rects = b.parts
      .filter((p) => p.value > 0)
      .map((p) => {
        const yTop = Y(acc + p.value);
        const h = r1(Y(acc) - yTop);
        acc += p.value;
        return html`<rect class="${p.cls}" x="${x}" y="${yTop}" width="${bw}" height="${Math.max(h, 0.5)}"><title>${b.label}: ${p.label} ${o.y.format(p.value)} of ${o.y.format(total)}</title></rect>`;
      });
    const label = i % every === 0 ? html`<text x="${r1(x + bw / 2)}" y="${M.top + ph + 16}" text-anchor="middle">${b.label}</text>` : '';
    return html`<g>${rects}${label}</g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${o.id}-t" aria-describedby="${o.id}-d" focusable="false">
<title id="${o.id}-t">${o.title}</title><desc id="${o.id}-d">${o.desc}</desc>
${grid}
<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/>
${bars}
<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle">${o.x.label}</text>
<text x="12" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${M.top + ph / 2})">${o.y.label}</text>
</svg>`;
}

export interface LegendItem {
  label: string;
  cls: string;
  /** 'line' with an optional dash, or 'box' (bars). */
  shape: 'line' | 'box';
  dash?: string;
}

export function legend(items: LegendItem[]): SafeHtml {
  return html`<ul class="legend">${items.map(
    (i) =>
      html`<li><svg class="chart swatch" width="26" height="10" viewBox="0 0 26 10" aria-hidden="true" focusable="false">${
        i.shape === 'box'
          ? html`<rect class="${i.cls}" x="6" y="0" width="14" height="10"/>`
          : html`<line class="series ${i.cls}" x1="0" x2="26" y1="5" y2="5"${i.dash ? html` stroke-dasharray="${i.dash}"` : ''}/>`
      }</svg> ${i.label}</li>`,
  )}</ul>`;
}

/** A chart in a figure with its caption, legend and the numbers as a table behind a disclosure. */
export function chartFigure(o: { caption: string; chart: SafeHtml; legend?: SafeHtml; table?: SafeHtml; note?: string }): SafeHtml {
  return html`<figure class="chart">
<figcaption>${o.caption}</figcaption>
${o.chart}
${o.legend ?? ''}
${o.note ? html`<p class="muted">${o.note}</p>` : ''}
${o.table ? html`<details class="data"><summary>Numbers behind this chart</summary>${o.table}</details>` : ''}
</figure>`;
}

