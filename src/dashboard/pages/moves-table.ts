// The pointer timeline as a table: one row per commit that changed deployments.yaml, whoever
// made it (mlops, a plain `git revert`, a hand edit), newest first.
import type { PointerMove } from '../../registry/history.js';
import { badge, dataTable } from '../components.js';
import { fmtPct, timeTag } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { relHref, sitePaths } from '../site-paths.js';

const BY: Record<PointerMove['by'], string> = { mlops: 'mlops', 'git-revert': 'git revert', hand: 'by hand' };

function kindClass(kind: PointerMove['kind']): string {
  if (kind === 'revert' || kind === 'rollback' || kind === 'canary-abort') return 'revert';
  if (kind === 'promote') return 'production';
  if (kind === 'canary-start' || kind === 'canary-weight') return 'canary';
  if (kind === 'manual') return 'warning';
  return 'info';
}

export function movesTable(o: { id: string; caption: string; model: string; moves: PointerMove[]; page: string; known: Set<string>; sortable?: boolean }): SafeHtml {
  const v = (version: string | null) =>
    version === null ? html`<span class="muted">none</span>` : o.known.has(version) ? html`<a href="${relHref(o.page, sitePaths.version(o.model, version))}">${version}</a>` : html`${version}`;
  const change = (c: { from: string | null; to: string | null } | null) => (c ? html`${v(c.from)} → ${v(c.to)}` : html`<span class="muted">–</span>`);
  const rows = o.moves.map(
    (m) => html`<tr data-commit="${m.commit}" data-kind="${m.kind}" data-by="${m.by}">
<td data-value="${m.date}">${timeTag(m.date)}</td>
<td>${badge(m.kind, kindClass(m.kind))}${m.valid ? '' : html` ${badge('unreadable file', 'bad')}`}</td>
<td>${BY[m.by]}</td>
<td>${change(m.production)}</td>
<td>${change(m.canary)}</td>
<td>${m.weight ? `${fmtPct(m.weight.from, 0)} → ${fmtPct(m.weight.to, 0)}` : html`<span class="muted">–</span>`}</td>
<td><code class="hash" title="${m.commit}">${m.commit.slice(0, 10)}</code>${m.reverts ? html`<br><span class="muted">reverts <code title="${m.reverts}">${m.reverts.slice(0, 10)}</code></span>` : ''}</td>
<td>${m.author.name} <span class="muted">&lt;${m.author.email}&gt;</span></td>
<td>${m.subject}${m.reason ? html`<br><span class="muted">${m.reason}</span>` : ''}</td>
</tr>`,
  );
  return dataTable({
    id: o.id,
    caption: o.caption,
    sortable: o.sortable,
    columns: [
      { label: 'Time' },
      { label: 'Move' },
      { label: 'Made' },
      { label: 'Production' },
      { label: 'Canary' },
      { label: 'Weight', noSort: true },
      { label: 'Commit', noSort: true },
      { label: 'Author' },
      { label: 'Message', noSort: true },
    ],
    rows,
    empty: 'deployments.yaml has no history yet.',
  });
}
