// Hidden markers in issue bodies: how an incident's issue is found again on the next hourly run,
// and where a small JSON state can ride along with it. HTML comments do not render on GitHub.

/** Keys stay readable in the marker; anything that could end the comment is escaped. */
function escapeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9._:@/+=-]/g, (c) => encodeURIComponent(c));
}

export function incidentMarker(key: string): string {
  return `<!-- mlops-incident: ${escapeKey(key)} -->`;
}

export function hasIncidentMarker(body: string | null | undefined, key: string): boolean {
  return !!body && body.includes(incidentMarker(key));
}

/** The body with exactly one marker for `key`, at the end. */
export function withIncidentMarker(body: string, key: string): string {
  const marker = incidentMarker(key);
  const rest = body.split(marker).join('').replace(/\s+$/, '');
  return rest ? `${rest}\n\n${marker}` : marker;
}

const STATE_RE = /<!-- mlops-state: (.*?) -->/s;

/** Reads the JSON carried by `<!-- mlops-state: ... -->`, or undefined when absent or unreadable. */
export function readStateMarker(body: string | null | undefined): unknown {
  const m = body ? STATE_RE.exec(body) : null;
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!);
  } catch {
    return undefined;
  }
}

/** Replaces (or appends) the state marker. `<` and `>` are escaped so the JSON cannot end the comment. */
export function writeStateMarker(body: string, state: unknown): string {
  const json = JSON.stringify(state).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  const marker = `<!-- mlops-state: ${json} -->`;
  if (STATE_RE.test(body)) return body.replace(STATE_RE, () => marker);
  return `${body.replace(/\s+$/, '')}\n${marker}`;
}

/** Bodies compare equal when only line endings or trailing blanks differ (GitHub's editor adds \r\n). */
export function sameText(a: string | null | undefined, b: string | null | undefined): boolean {
  const norm = (s: string | null | undefined) => (s ?? '').replace(/\r\n/g, '\n').replace(/\s+$/, '');
  return norm(a) === norm(b);
}
