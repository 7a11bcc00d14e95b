// Small pieces the pages share: badges, tables in scrollable regions, notices.
import { html, type HtmlValue, type SafeHtml } from './html.js';
import type { ErrorView } from './types.js';

/** A badge whose class is derived from `kind` (reduced to [a-z-], never free text in a class). */
export function badge(text: string, kind: string = text): SafeHtml {
  return html`<span class="badge b-${kind.toLowerCase().replace(/[^a-z-]/g, '')}">${text}</span>`;
}

export interface Column {
  label: string;
  /** Numeric: right-aligned, sorted as numbers (cells give data-value). */
  num?: boolean;
  /** Not sortable. */
  noSort?: boolean;
  /** Extra accessible description of the header. */
  title?: string;
}

/**
 * A table in a focusable, labelled region (it may scroll sideways on a narrow screen). With
 * `sortable`, the sort script turns its headers into buttons.
 */
export function dataTable(o: { id: string; caption: HtmlValue; columns: Column[]; rows: SafeHtml[]; sortable?: boolean; empty?: string }): SafeHtml {
  if (o.rows.length === 0 && o.empty) return html`<p class="muted" id="${o.id}">${o.empty}</p>`;
  const heads = o.columns.map(
    (c) => html`<th scope="col"${c.num ? html` class="num" data-type="num"` : ''}${c.noSort ? html` data-sort="none"` : ''}${c.title ? html` title="${c.title}"` : ''}>${c.label}</th>`,
  );
  return html`<div class="table-wrap" role="region" aria-labelledby="${o.id}-caption" tabindex="0">
<table id="${o.id}"${o.sortable ? html` data-sortable` : ''}>
<caption id="${o.id}-caption">${o.caption}</caption>
<thead><tr>${heads}</tr></thead>
<tbody>
${o.rows.map((r) => html`${r}\n`)}</tbody>
</table>
</div>`;
}

export function errorNotice(what: string, e: ErrorView): SafeHtml {
  return html`<div class="notice error" role="note"><p><strong>${what}</strong>: ${e.message} <span class="muted">(${e.code})</span></p>${e.hint ? html`<p>${e.hint}</p>` : ''}</div>`;
}

export function notice(text: HtmlValue): SafeHtml {
  return html`<div class="notice" role="note"><p>${text}</p></div>`;
}
