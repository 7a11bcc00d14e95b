// Use case: `mlops dashboard --out DIR`. Gathers what the read commands show (list, show,
// history, canary analyze, the datasets lock, the alert state), renders the static site from it
// (src/dashboard, pure) and writes it as a whole. `mlops serve` can serve the same folder, or
// render pages in memory with renderDashboard.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMlopsError } from '../errors.js';
import { lambdaTrajectory } from '../canary/aggregate.js';
import { fileAlertState, type IncidentState } from '../alerts/state.js';
import { readLock } from '../data/read-lock.js';
import { manifestFile } from '../registry/paths.js';
import { parseRegistrationTag } from '../registry/semver.js';
import type { PointerMove } from '../registry/history.js';
import { TOOL_VERSION } from '../version.js';
import { renderPages, renderSite } from '../dashboard/render-site.js';
import { ShardWeeksReader } from '../dashboard/shard-weeks.js';
import { checkOutDir, writeSite } from '../dashboard/write-site.js';
import type { AlertsView, CanaryView, DashboardData, DatasetView, ErrorView, ModelView, PageKind, RenderedPage } from '../dashboard/types.js';
import { analyzeCanary } from './canary-check.js';
import { isoSeconds, loadModelState, type Context } from './context.js';
import { readHistory } from './history.js';
import { listVersions, type ShowResult } from './read.js';

export interface DashboardOptions {
  /** The instant the site describes (canary verdicts are evaluated at it). Default: the context's clock. */
  now?: Date;
  /** Bytes of not-yet-cached shards read for the weekly outcome mix. Default 256 MiB. */
  mixBudgetBytes?: number;
}

export interface BuildDashboardOptions extends DashboardOptions {
  ctx: Context;
  /** Output folder: created, or replaced when it holds an earlier build; anything else is refused. */
  out: string;
}

export interface BuildDashboardResult {
  out: string;
  pages: Array<{ path: string; kind: PageKind; title: string }>;
  /** Every file written, relative to `out`. */
  files: string[];
  warnings: string[];
}

/** An error for a page: the registry's own path is cut from messages, so no machine path is published. */
function errorView(e: unknown, root: string): ErrorView {
  const strip = (s: string) => s.split(`${root}/`).join('').split(root).join('.');
  if (isMlopsError(e)) return { code: e.code, message: strip(e.message), ...(e.hint ? { hint: strip(e.hint) } : {}) };
  return { code: 'INTERNAL', message: strip(e instanceof Error ? e.message : String(e)) };
}

/**
 * Registration tags of a model, peeled to their commits, in one `git for-each-ref`. (GitRepo's
 * listTags resolves tag by tag in-process, which takes a second per ~10 tags once tags are
 * packed; a thousand versions need one process.)
 */
async function registrationTags(ctx: Context, model: string): Promise<Map<string, { name: string; commit: string }>> {
  const tags = new Map<string, { name: string; commit: string }>();
  for (const t of await ctx.repo.listTags(`${model}@`)) {
    const parsed = parseRegistrationTag(t.name);
    if (parsed && parsed.model === model) tags.set(parsed.version, { name: t.name, commit: t.commit });
  }
  return tags;
}

/**
 * The manifest files as text, to show each one as it is committed (comments included). Only
 * displayed: every figure on the pages comes from the parsed manifests above. A file that cannot
 * be read is shown from its parsed form instead.
 */
function manifestTexts(ctx: Context, versions: ShowResult[]): Map<string, string> {
  // Synchronous, as the registry store reads manifests: a thousand small files cost less this
  // way than through the thread pool.
  const texts = new Map<string, string>();
  for (const v of versions) {
    try {
      texts.set(v.version, readFileSync(join(ctx.root, manifestFile(v.model, v.version)), 'utf8'));
    } catch {
      // shown from its parsed form instead
    }
  }
  return texts;
}

async function modelView(ctx: Context, model: string, at: Date, head: string | null, warnings: string[]): Promise<ModelView> {
  // git runs while the manifests are parsed.
  const historyRead = readHistory(ctx, model).then(
    (moves) => ({ moves, error: null }),
    (e: unknown) => ({ moves: [] as PointerMove[], error: errorView(e, ctx.root) }),
  );
  // Its note is added where it is awaited, so the notes keep one order whatever finishes first.
  const history = async () => {
    const h = await historyRead;
    if (h.error) warnings.push(`${model}: the pointer history could not be read (${h.error.message})`);
    return h.moves;
  };
  const tagsP = registrationTags(ctx, model);
  const empty: ModelView = { name: model, doc: null, deployments: null, rows: [], versions: [], manifest_texts: new Map(), history: [], canary: null, error: null };
  let view: ModelView;
  try {
    const rows = await listVersions(ctx, { model });
    const state = await loadModelState(ctx, model);
    const tags = await tagsP;
    const versions: ShowResult[] = rows.map((r) => {
      const entry = state.versions.get(r.version)!;
      return { model, version: r.version, status: r.status, folder: entry.folder, manifest: entry.manifest, tag: tags.get(r.version) ?? null };
    });
    view = { ...empty, doc: state.model, deployments: state.deployments, rows, versions, manifest_texts: manifestTexts(ctx, versions) };
  } catch (e) {
    await tagsP.catch(() => undefined);
    const err = errorView(e, ctx.root);
    warnings.push(`${model}: the model could not be read (${err.code}: ${err.message}); run \`mlops verify\``);
    return { ...empty, history: await history(), error: err };
  }
  view.history = await history();
  if (view.deployments?.canary) view.canary = await canaryView(ctx, model, at, warnings);
  return view;
}

async function canaryView(ctx: Context, model: string, at: Date, warnings: string[]): Promise<CanaryView> {
  const base = {
    thresholds: { canary: ctx.config.canary.thresholds, rollback: ctx.config.rollback.thresholds, latency_quantile: ctx.config.canary.latency_quantile },
    source: ctx.config.canary.source.type,
  };
  try {
    const analysis = await analyzeCanary(ctx, { model, at });
    const trajectory = analysis.aggregate ? lambdaTrajectory(analysis.aggregate, ctx.config) : null;
    return { ...base, analysis, error: null, trajectory };
  } catch (e) {
    const err = errorView(e, ctx.root);
    warnings.push(`${model}: the canary could not be analysed (${err.code}: ${err.message})`);
    return { ...base, analysis: null, error: err, trajectory: null };
  }
}

async function datasetViews(ctx: Context, budget: number | undefined, warnings: string[]): Promise<{ datasets: DatasetView[]; error: ErrorView | null }> {
  let lock;
  try {
    lock = (await readLock(ctx.root)).lock;
  } catch (e) {
    const err = errorView(e, ctx.root);
    warnings.push(`datasets.lock could not be read (${err.code}: ${err.message})`);
    return { datasets: [], error: err };
  }
  const reader = await ShardWeeksReader.open(ctx.root, budget);
  const datasets: DatasetView[] = [];
  for (const [name, ds] of Object.entries(lock.datasets).sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const shards = [];
    for (const s of ds.shards) shards.push({ ...s, ...(await reader.read(s)) });
    const read = shards.filter((s) => s.weeks !== null).length;
    const mix = read === shards.length ? 'complete' : read === 0 ? 'none' : 'partial';
    const bad = shards.filter((s) => s.state === 'missing' || s.state === 'modified');
    const unchecked = shards.filter((s) => s.state === 'unchecked').length;
    const notes: string[] = [];
    if (bad.length) notes.push(`${bad.length} shard${bad.length === 1 ? ' is' : 's are'} missing or modified (${bad.slice(0, 3).map((s) => s.path).join(', ')}${bad.length > 3 ? ', ...' : ''}): run \`mlops data verify\`.`);
    if (unchecked) notes.push(`${unchecked} shard${unchecked === 1 ? ' was' : 's were'} not read in this build (over the read budget; they are read and cached by the next builds).`);
    if (mix !== 'complete' && shards.length) notes.push('The weekly chart counts rows by the week each shard was sealed, without the outcome mix, because not every shard was read.');
    if (notes.length) warnings.push(`${name}: ${notes.join(' ')}`);
    datasets.push({ name, schema: ds.schema, merge_strategy: ds.merge_strategy, merged: ds.merged, shards, mix, note: notes.length ? notes.join(' ') : null });
  }
  await reader.save();
  return { datasets, error: null };
}

/**
 * Open incidents from the alert state file. The store answers per incident, so the keys the
 * checks use are asked for: each model's source and retrain incidents, and the canary incident
 * of every version that is a canary now or had a canary decision recorded.
 */
async function alertsView(ctx: Context, models: ModelView[], warnings: string[]): Promise<AlertsView> {
  const location = '.mlops/alerts-state.json';
  const path = join(ctx.root, location);
  if (!existsSync(path)) return { source: 'absent', location, incidents: [], error: null };
  const store = fileAlertState(path);
  const incidents: IncidentState[] = [];
  try {
    for (const m of models) {
      const keys = [`source:${m.name}`, `retrain:${m.name}`];
      for (const v of m.versions) if (v.status === 'canary' || v.manifest.observed.decisions?.length) keys.push(`canary:${m.name}@${v.version}`);
      for (const k of keys) {
        const s = await store.get(k);
        if (s) incidents.push(s);
      }
    }
  } catch (e) {
    const err = errorView(e, ctx.root);
    warnings.push(`the alert state could not be read (${err.code}: ${err.message})`);
    return { source: 'error', location, incidents: [], error: err };
  }
  return { source: 'file', location, incidents, error: null };
}

/** Everything the pages show, read through the same functions as the CLI's read commands. */
export async function collectDashboardData(ctx: Context, opts: DashboardOptions = {}): Promise<DashboardData> {
  const at = opts.now ?? ctx.now();
  const warnings: string[] = [];
  // The shards are read while the models are (file reads and git processes overlap the parsing).
  // (Their notes are kept apart and appended after the models', so the order does not depend on timing.)
  const datasetWarnings: string[] = [];
  const datasetsP = datasetViews(ctx, opts.mixBudgetBytes, datasetWarnings);
  const models: ModelView[] = [];
  const head = await ctx.repo.headOrNull();
  for (const name of ctx.store.listModels()) models.push(await modelView(ctx, name, at, head, warnings));
  const { datasets, error } = await datasetsP;
  warnings.push(...datasetWarnings);
  const alerts = await alertsView(ctx, models, warnings);
  return {
    generated_at: isoSeconds(at),
    head: { commit: head, branch: await ctx.repo.currentBranch() },
    tool_version: TOOL_VERSION,
    models,
    datasets,
    datasets_error: error,
    alerts,
    warnings,
  };
}

/** The site's pages in memory (for a server that renders on request). */
export async function renderDashboard(ctx: Context, opts: DashboardOptions = {}): Promise<{ pages: RenderedPage[]; warnings: string[] }> {
  const data = await collectDashboardData(ctx, opts);
  return { pages: renderSite(data), warnings: data.warnings };
}

export async function buildDashboard(opts: BuildDashboardOptions): Promise<BuildDashboardResult> {
  // Refuse a wrong folder before the work, not after it.
  await checkOutDir(opts.out);
  const data = await collectDashboardData(opts.ctx, opts);
  const pages: BuildDashboardResult['pages'] = [];
  // Rendered lazily: each page is written, then dropped, while the next one is rendered.
  function* files() {
    for (const p of renderPages(data)) {
      pages.push({ path: p.path, kind: p.kind, title: p.title });
      yield { path: p.path, content: p.html };
    }
  }
  const written = await writeSite(opts.out, files(), { generator: 'mlops dashboard', tool_version: data.tool_version, generated_at: data.generated_at, commit: data.head.commit });
  return { out: opts.out, pages, files: written, warnings: data.warnings };
}
