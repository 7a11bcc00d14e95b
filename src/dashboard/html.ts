// HTML built by a tagged template that escapes every interpolated value unless it is already
// markup made here (SafeHtml). Manifest descriptions, commit messages and authors are
// user-controlled, so escaping is the default and raw markup the exception that must be named.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const NEEDS_ESCAPE = /[&<>"']/;

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  // Most values (versions, hashes, numbers, dates) need nothing: skip the replace for them.
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : text;
}

/** Markup that is known to be safe: produced by `html` or by `raw` on a trusted constant. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) {
    let s = '';
    for (const x of v as readonly HtmlValue[]) s += render(x);
    return s;
  }
  return escapeHtml(String(v));
}

/** `html\`<td>${text}</td>\``: every value is escaped, SafeHtml and arrays of it are inserted as they are. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let s = strings[0]!;
  for (let i = 0; i < values.length; i++) s += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(s);
}

/** Trusted markup (constants of this module tree only, never data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

export function joinHtml(parts: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  const sep = render(separator);
  return new SafeHtml(parts.map(render).join(sep));
}
