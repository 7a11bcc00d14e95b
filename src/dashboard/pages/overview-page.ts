// index.html: every model at a glance (what serves, how its canary stands, when it was last
// retrained, the last pointer move), the alerts, the datasets and anything the build noticed.
import { badge, dataTable, errorNotice, notice } from '../components.js';
import { fmtInt, fmtPct, timeTag } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { relHref, sitePaths } from '../site-paths.js';
import type { DashboardData, ModelView } from '../types.js';

const PATH = sitePaths.overview;
const href = (to: string) => relHref(PATH, to);

/** The newest registration of a model (its last retrain), by created_at. */
export function newestRegistration(m: ModelView): ModelView['rows'][number] | null {
  let best: ModelView['rows'][number] | null = null;
  for (const r of m.rows) if (!best || r.created_at > best.created_at) best = r;
  return best;
}

function modelCard(m: ModelView): SafeHtml {
  const title = html`<h2 id="model-${m.name}"><a href="${href(sitePaths.model(m.name))}">${m.name}</a></h2>`;
  if (m.error) return html`<section class="card" aria-labelledby="model-${m.name}">${title}${errorNotice('This model could not be read', m.error)}</section>`;
  const d = m.deployments!;
  const v = (version: string) => html`<a href="${href(sitePaths.version(m.name, version))}">${version}</a>`;
  const newest = newestRegistration(m);
  const last = m.history[0];
  const counts = new Map<string, number>();
  for (const r of m.rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const canary = d.canary
    ? html`${v(d.canary.version)} at ${fmtPct(d.canary.weight, 0)} since ${timeTag(d.canary.started_at)}<br>${
        m.canary?.analysis
          ? html`verdict <a href="${href(sitePaths.canary(m.name))}" data-verdict="${m.canary.analysis.verdict.verdict}">${badge(m.canary.analysis.verdict.verdict)}</a>`
          : html`<a href="${href(sitePaths.canary(m.name))}">${badge('no verdict', 'warning')}</a> <span class="muted">${m.canary?.error?.message ?? ''}</span>`
      }`
    : html`<span class="muted">none</span> · <a href="${href(sitePaths.canary(m.name))}">past canaries</a>`;
  return html`<section class="card" aria-labelledby="model-${m.name}" data-model="${m.name}">
${title}
${m.doc?.description ? html`<p class="lead">${m.doc.description}</p>` : ''}
<dl class="facts">
<dt>Production</dt><dd data-field="production">${d.production ? v(d.production) : html`<span class="muted">none</span>`}</dd>
<dt>Canary</dt><dd data-field="canary">${canary}</dd>
<dt>Last retrain</dt><dd data-field="last-retrain">${newest ? html`${v(newest.version)}, ${timeTag(newest.created_at)}` : html`<span class="muted">no version yet</span>`}</dd>
<dt>Versions</dt><dd>${fmtInt(m.rows.length)}${counts.size ? html` <span class="muted">(${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})</span>` : ''}</dd>
<dt>Last move</dt><dd>${last ? html`${badge(last.kind, last.kind === 'revert' || last.kind === 'rollback' ? 'revert' : 'info')} ${timeTag(last.date)} by ${last.author.name} <a href="${href(sitePaths.history(m.name))}">history</a>` : html`<span class="muted">none</span>`}</dd>
</dl>
</section>`;
}

function alertsSection(data: DashboardData): SafeHtml {
  const a = data.alerts;
  const incidents =
    a.source === 'file'
      ? dataTable({
          id: 'incidents',
          caption: html`Open incidents, from <code>${a.location}</code>`,
          columns: [{ label: 'Incident' }, { label: 'Opened' }, { label: 'Alerts' }],
          rows: a.incidents.map(
            (i) => html`<tr><td>${i.incident}</td><td>${timeTag(i.opened_at)}</td><td>${Object.entries(i.kinds).map(
              ([kind, s]) => html`${badge(kind, kind === 'rollback' ? 'critical' : kind === 'promotion' || kind === 'recovered' ? 'info' : 'warning')} ×${s!.count}, last ${timeTag(s!.last_at)}${s!.delivered.length ? ` (sent: ${s!.delivered.join(', ')})` : ' (not delivered)'} `,
            )}</td></tr>`,
          ),
          empty: `No open incident in ${a.location}.`,
        })
      : a.source === 'error'
        ? errorNotice('The alert state could not be read', a.error!)
        : notice(html`No alert state here (<code>${a.location}</code> is absent; in CI the state lives in the incident issues). The verdicts below are the ones the hourly canary check alerts on.`);
  const would: SafeHtml[] = [];
  for (const m of data.models) {
    if (!m.canary) continue;
    const v = m.canary.analysis?.verdict;
    if (v && (v.verdict === 'rollback' || v.verdict === 'inconclusive')) {
      would.push(
        html`<tr data-model="${m.name}"><td><a href="${href(sitePaths.canary(m.name))}">${m.name}@${m.canary.analysis!.version}</a></td><td>${badge(v.verdict)}</td><td>${v.reasons.join('; ')}</td></tr>`,
      );
    } else if (m.canary.error) {
      would.push(html`<tr data-model="${m.name}"><td><a href="${href(sitePaths.canary(m.name))}">${m.name}</a></td><td>${badge('source failed', 'warning')}</td><td>${m.canary.error.message}</td></tr>`);
    }
  }
  return html`<section aria-labelledby="alerts"><h2 id="alerts">Alerts</h2>
${incidents}
<h3 id="would-alert">Canary verdicts that alert</h3>
${dataTable({ id: 'would-alert-table', caption: 'Running canaries whose verdict is rollback or inconclusive, or whose metrics cannot be read', columns: [{ label: 'Canary' }, { label: 'Verdict' }, { label: 'Why' }], rows: would, empty: 'None: no running canary calls for a rollback or a hold.' })}
</section>`;
}

function datasetsSection(data: DashboardData): SafeHtml {
  if (data.datasets_error) return html`<section aria-labelledby="datasets"><h2 id="datasets">Datasets</h2>${errorNotice('datasets.lock could not be read', data.datasets_error)}</section>`;
  const rows = data.datasets.map((d) => {
    const last = d.shards[d.shards.length - 1];
    return html`<tr><td><a href="${href(sitePaths.datasets)}#ds-${d.name}">${d.name}</a></td><td class="num">${fmtInt(d.shards.length)}</td><td class="num">${fmtInt(d.merged.rows)}</td><td>${last ? timeTag(last.created_at) : '–'}</td></tr>`;
  });
  return html`<section aria-labelledby="datasets"><h2 id="datasets">Datasets</h2>
${dataTable({ id: 'datasets-table', caption: 'Locked datasets (datasets.lock)', columns: [{ label: 'Dataset' }, { label: 'Shards', num: true }, { label: 'Rows', num: true }, { label: 'Newest shard' }], rows, empty: 'No dataset is locked yet (`mlops data collect` seals the first shard).' })}
</section>`;
}

export function renderOverviewPage(data: DashboardData): SafeHtml {
  return html`<h1>Model registry</h1>
<p class="lead">${data.models.length} model${data.models.length === 1 ? '' : 's'} · state as of ${timeTag(data.generated_at)}</p>
${data.warnings.length ? html`<div class="notice" role="note"><p><strong>Notes from this build</strong></p><ul>${data.warnings.map((w) => html`<li>${w}</li>`)}</ul></div>` : ''}
<section aria-labelledby="models"><h2 id="models">Models</h2>
${data.models.length ? html`<div class="cards">${data.models.map(modelCard)}</div>` : html`<p class="muted">No model in registry/ yet: <code>mlops init --model NAME</code> creates one.</p>`}
</section>
${alertsSection(data)}
${datasetsSection(data)}`;
}
