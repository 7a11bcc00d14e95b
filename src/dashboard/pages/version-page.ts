// A version's page: the facts of its manifest, its metrics against the baseline it was validated
// against, the dataset shards it was trained on with their hashes, its registration tag and
// commit, the canary decisions recorded in it, the pointer moves that involved it, and the
// manifest itself.
import type { ShowResult, VersionRow } from '../../app/read.js';
import type { PointerMove } from '../../registry/history.js';
import { badge, dataTable, notice } from '../components.js';
import { fmtBytes, fmtDate, fmtFixed, fmtInt, fmtMetric, fmtPct, hashTag, timeTag } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { relHref, sitePaths } from '../site-paths.js';
import type { DatasetView, ModelView } from '../types.js';
import { movesTable } from './moves-table.js';

/** Metrics where lower is better, for the sign of "better" in the comparison. */
const LOWER_IS_BETTER = new Set(['log_loss', 'brier', 'rmse', 'mae', 'loss']);

function metricsSection(s: ShowResult, href: (to: string) => string): SafeHtml {
  const m = s.manifest;
  const val = m.validation;
  const base = val?.baseline_metrics ?? null;
  const names = [...new Set([...Object.keys(m.metrics), ...Object.keys(base ?? {})])];
  const rows = names.map((k) => {
    const a = m.metrics[k];
    const b = base?.[k];
    const delta = typeof a === 'number' && typeof b === 'number' ? a - b : null;
    const better = delta === null || delta === 0 ? null : LOWER_IS_BETTER.has(k) ? delta < 0 : delta > 0;
    return html`<tr data-metric="${k}"><th scope="row">${k}</th><td class="num" data-value="${a ?? ''}">${fmtMetric(a)}</td><td class="num">${fmtMetric(b)}</td><td class="num">${delta === null ? '–' : `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${Math.abs(delta).toFixed(4)}`}${better === null ? '' : html` <span class="muted">(${better ? 'better' : 'worse'})</span>`}</td></tr>`;
  });
  const verdict = val
    ? html`<p>Validation ${val.passed ? badge('passed', 'good') : badge('failed', 'bad')} against ${val.baseline ? html`<a href="${href(sitePaths.version(m.model, val.baseline))}">${val.baseline}</a>` : 'no baseline (first version)'}: minimum AUC ${fmtMetric(val.threshold)}${val.max_regression !== undefined ? html`, largest regression allowed ${fmtMetric(val.max_regression)}` : ''}.</p>${val.reasons?.length ? html`<ul class="reasons">${val.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}`
    : html`<p class="muted">No validation block: this version was registered without a comparison against production.</p>`;
  return html`<section aria-labelledby="metrics"><h2 id="metrics">Metrics against the baseline</h2>
${verdict}
${dataTable({ id: 'metrics-table', caption: `Held-out test metrics of ${m.version}${val?.baseline ? ` and of its baseline ${val.baseline} on the same split` : ''}`, columns: [{ label: 'Metric' }, { label: m.version, num: true }, { label: val?.baseline ?? 'baseline', num: true }, { label: 'Difference', num: true }], rows, empty: 'No metrics recorded.' })}
</section>`;
}

// A shard's row reads the same on every version page trained on it: rendered once per dataset,
// lean (a thousand version pages may list fifty shards each).
const shardRowCache = new WeakMap<DatasetView, { rows: SafeHtml[]; withState: boolean }>();

function shardRows(ds: DatasetView): { rows: SafeHtml[]; withState: boolean } {
  let r = shardRowCache.get(ds);
  if (!r) {
    const withState = ds.shards.some((sh) => sh.state !== 'locked');
    r = {
      withState,
      rows: ds.shards.map(
        (sh) =>
          html`<tr><td><code>${sh.path}</code></td><td>${fmtDate(sh.created_at)}</td><td class="num">${fmtInt(sh.rows)}</td><td class="num">${fmtBytes(sh.bytes)}</td><td><code class="hash" title="${sh.sha256}">${sh.sha256.slice(0, 16)}</code></td>${withState ? html`<td>${badge(sh.state)}</td>` : ''}</tr>`,
      ),
    };
    shardRowCache.set(ds, r);
  }
  return r;
}

function datasetSection(s: ShowResult, ds: DatasetView | undefined): SafeHtml {
  const d = s.manifest.dataset;
  const facts = html`<dl class="facts">
<dt>Dataset</dt><dd>${d.name}${d.path ? html` <span class="muted">(file <code>${d.path}</code>)</span>` : ''}</dd>
<dt>SHA-256</dt><dd><code class="hash" data-field="dataset-sha256">${d.sha256}</code></dd>
<dt>Rows</dt><dd data-field="dataset-rows">${fmtInt(d.rows)}</dd>
<dt>Shards</dt><dd>${d.shards === null ? '–' : fmtInt(d.shards)}</dd>
</dl>`;
  if (!ds || d.shards === null) {
    return html`<section aria-labelledby="dataset"><h2 id="dataset">Training data</h2>${facts}${
      d.shards === null ? '' : notice(html`datasets.lock has no dataset named ${d.name}: the shards cannot be listed.`)
    }</section>`;
  }
  // Shards are appended in order and never removed, so the first `shards` of the lock went in.
  const used = ds.shards.slice(0, d.shards);
  const { rows: all, withState } = shardRows(ds);
  const rows = all.slice(0, used.length);
  return html`<section aria-labelledby="dataset"><h2 id="dataset">Training data</h2>
${facts}
${used.length < d.shards ? notice(`The manifest names ${d.shards} shards but datasets.lock holds ${ds.shards.length}.`) : ''}
${dataTable({ id: 'shards-table', caption: `${used.length === 1 ? 'The first shard' : `The first ${used.length} shards`} of ${ds.name} in datasets.lock, the data this version was trained on${withState ? '' : ' (every shard of the dataset matches its locked hash)'}`, columns: [{ label: 'Shard' }, { label: 'Sealed' }, { label: 'Rows', num: true }, { label: 'Size', num: true }, { label: 'SHA-256' }, ...(withState ? [{ label: 'State' }] : [])], rows })}
</section>`;
}

function decisionsSection(s: ShowResult): SafeHtml | '' {
  const decisions = s.manifest.observed.decisions ?? [];
  if (!decisions.length) return '';
  const streams = ['S', 'E', 'Lup', 'Ldown'];
  const rows = decisions.map((d) => {
    const st = (d.streams ?? {}) as Record<string, { n: number; k: number; llr: number } | undefined>;
    return html`<tr><td>${timeTag(d.at)}</td><td>${badge(String(d.verdict))}</td><td>${String(d.action)}</td>${streams.map((x) => html`<td class="num">${st[x] ? `${st[x]!.n}/${st[x]!.k}, Λ ${fmtFixed(st[x]!.llr, 3)}` : '–'}</td>`)}<td>${Array.isArray(d.reasons) ? (d.reasons as unknown[]).map(String).join('; ') : ''}</td></tr>`;
  });
  return html`<section aria-labelledby="decisions"><h2 id="decisions">Canary decisions</h2>
${dataTable({ id: 'decisions-table', caption: 'Decision records written into the manifest with each promotion, rollback or weight step', columns: [{ label: 'At' }, { label: 'Verdict' }, { label: 'Action' }, ...streams.map((x) => ({ label: `${x} n/k, Λ`, num: true })), { label: 'Reasons' }], rows })}
</section>`;
}

/** Each version's pointer moves (into or out of a stage), from one pass over the history. */
export function movesByVersion(history: PointerMove[]): Map<string, PointerMove[]> {
  const by = new Map<string, PointerMove[]>();
  for (const m of history) {
    const vs = new Set([m.production?.from, m.production?.to, m.canary?.from, m.canary?.to]);
    for (const v of vs) {
      if (!v) continue;
      let list = by.get(v);
      if (!list) by.set(v, (list = []));
      list.push(m);
    }
  }
  return by;
}

export function renderVersionPage(o: { model: ModelView; show: ShowResult; dataset: DatasetView | undefined; manifestYaml: string; moves: PointerMove[]; known: Set<string>; row: VersionRow | undefined }): SafeHtml {
  const s = o.show;
  const m = s.manifest;
  const page = sitePaths.version(s.model, s.version);
  const href = (to: string) => relHref(page, to);
  const row = o.row;
  const moves = o.moves;
  const known = o.known;
  const files = [m.artifact, ...(m.artifact.files ?? [])];
  return html`<h1>${s.model}@${s.version} <span data-field="status">${badge(s.status)}</span></h1>
${m.description ? html`<p class="lead">${m.description}</p>` : ''}
<dl class="facts">
<dt>Created</dt><dd>${timeTag(m.created_at)}</dd>
<dt>Parent</dt><dd>${m.parent ? (known.has(m.parent) ? html`<a href="${href(sitePaths.version(s.model, m.parent))}">${m.parent}</a>` : m.parent) : html`<span class="muted">none</span>`}</dd>
${row?.weight !== null && row?.weight !== undefined ? html`<dt>Traffic</dt><dd>${fmtPct(row.weight, 0)}</dd>` : ''}
<dt>Lifecycle</dt><dd>${m.lifecycle.state}${m.lifecycle.reason ? html`: ${m.lifecycle.reason}` : ''}${m.lifecycle.at ? html` (${timeTag(m.lifecycle.at)})` : ''}</dd>
<dt>Registration tag</dt><dd data-field="tag">${s.tag ? html`<code>${s.tag.name}</code>` : html`<span class="muted">none yet (<code>mlops tags sync</code> creates it on the default branch)</span>`}</dd>
<dt>Tagged commit</dt><dd data-field="tag-commit">${s.tag ? html`<code class="hash">${s.tag.commit}</code>` : '–'}</dd>
<dt>Folder</dt><dd><code>${s.folder}</code></dd>
<dt>Schema</dt><dd>${m.schema.version} ${hashTag(m.schema.sha256)}</dd>
<dt>Trainer</dt><dd>${m.training.trainer}, seed ${m.training.seed === null ? '–' : String(m.training.seed)}, mlops ${m.training.tool_version}<br><code>${JSON.stringify(m.training.params)}</code></dd>
</dl>
${metricsSection(s, href)}
${datasetSection(s, o.dataset)}
<section aria-labelledby="artifact"><h2 id="artifact">Artifact</h2>
${dataTable({ id: 'artifact-table', caption: 'Files of this version, hashed in the manifest', columns: [{ label: 'File' }, { label: 'Size', num: true }, { label: 'SHA-256' }], rows: files.map((f) => html`<tr><td><code>${f.path}</code></td><td class="num">${fmtBytes(f.bytes)}</td><td><code class="hash">${f.sha256}</code></td></tr>`) })}
</section>
${decisionsSection(s)}
<section aria-labelledby="moves"><h2 id="moves">Pointer moves of this version</h2>
${movesTable({ id: 'version-moves-table', caption: `Commits that moved ${s.version} into or out of a stage`, model: s.model, moves, page, known })}
</section>
<section aria-labelledby="manifest"><h2 id="manifest">Manifest</h2>
<p class="muted"><code>${s.folder}/manifest.yaml</code></p>
<pre><code>${o.manifestYaml}</code></pre>
</section>`;
}
