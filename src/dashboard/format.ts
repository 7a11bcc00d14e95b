// Number, time and hash formatting shared by the pages. UTC and fixed formats only, so a page is
// the same bytes on every machine and in every time zone.
import { html, type SafeHtml } from './html.js';

/** `<time>` with the ISO instant as its machine value and "2026-11-29 09:12 UTC" as text. */
export function timeTag(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">–</span>`;
  return html`<time datetime="${iso}">${fmtTime(iso)}</time>`;
}

// A site shows the same instants on many pages (shard dates on every version page): memoised.
const timeTexts = new Map<string, string>();

export function fmtTime(iso: string): string {
  let s = timeTexts.get(iso);
  if (s !== undefined) return s;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const d = new Date(ms).toISOString();
  s = `${d.slice(0, 10)} ${d.slice(11, 16)} UTC`;
  if (timeTexts.size > 100_000) timeTexts.clear();
  timeTexts.set(iso, s);
  return s;
}

export function fmtDate(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : iso;
}

/** A metric as its JSON number (the text `mlops list --json` prints), or a dash. */
export function fmtMetric(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : String(v);
}

export function fmtFixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** A rate in percent with two decimals (as the CLI's canary table prints it). */
export function fmtPct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
}

export function fmtInt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  // Thin grouping by hand: toLocaleString depends on the machine's ICU data.
  const s = String(Math.round(Math.abs(v)));
  return (v < 0 ? '−' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A hash shortened for reading, the full value in a title and for copying. */
export function hashTag(hex: string | null | undefined, length = 12): SafeHtml {
  if (!hex) return html`<span class="muted">–</span>`;
  return html`<code class="hash" title="${hex}">${hex.slice(0, length)}</code>`;
}

/** Sort key of a SemVer `vX.Y.Z` that orders as text (the sort script compares data-value). */
export function versionSortKey(v: string): string {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) return v;
  return [m[1], m[2], m[3]].map((x) => x!.padStart(9, '0')).join('.');
}

/** Monday (UTC) of the ISO week of an instant, as YYYY-MM-DD. */
export function weekStart(ms: number): string {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day)).toISOString().slice(0, 10);
}
