// The versions a server is serving, and hot reload. A check reads every model's deployments.yaml
// and the manifests it points to, loads versions it does not hold yet in the background, and
// swaps each model's serving set in one assignment. Rules:
// - per model all or nothing: when a pointed version cannot be loaded, the model keeps serving
//   what it served before (routing included), and the failure is reported, logged and counted;
// - a loaded version is reused while its manifest hashes are unchanged;
// - requests hold a reference on the version they run on; a swapped-out version's session is
//   closed when its last request releases it, so in-flight requests finish on the old session;
// - a failing version is not retried until one of its files changes (no reload storm);
// - the last version(s) a model swapped out stay loaded (keepWarm), so flipping back, which is
//   what a rollback does, needs no load at all.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlopsError, isMlopsError, type ErrorCode } from '../errors.js';
import { deploymentsFile, manifestFile, modelDir, modelFile, REGISTRY_DIR, SCHEMAS_DIR, versionDir, versionsDir } from '../registry/paths.js';
import { isModelName, isVersion } from '../registry/semver.js';
import type { DeploymentsDoc, ManifestDoc } from '../registry/types.js';
import type { RoutingDeployments } from '../canary/route.js';
import { parseAndValidateYaml } from '../util/validate.js';
import { loadServingVersion, statKey, versionIdentity, versionPaths, type LoadedVersion } from './load-version.js';
import { watchDirs, type DirWatcher } from './registry-watch.js';

export type Stage = 'production' | 'canary';

/** A loaded version with a reference count: closed once retired and no request holds it. */
export class VersionHandle {
  private refs = 0;
  private retired = false;
  private closing: Promise<void> | null = null;

  constructor(readonly loaded: LoadedVersion) {}

  acquire(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0 && this.retired) void this.close();
  }

  /** No new request will get this version; close it when the last one releases it. */
  retire(): void {
    this.retired = true;
    if (this.refs === 0) void this.close();
  }

  get isClosed(): boolean {
    return this.closing !== null;
  }

  close(): Promise<void> {
    this.closing ??= this.loaded.scorer.close().catch(() => undefined);
    return this.closing;
  }
}

/** What one model serves right now. Replaced whole on a swap, never mutated. */
export interface ServingModel {
  model: string;
  routing: RoutingDeployments;
  /** Pointed versions by version. */
  versions: ReadonlyMap<string, VersionHandle>;
  /** Stage of each pointed version. */
  stages: ReadonlyMap<string, Stage>;
}

export interface LoadFailure {
  model: string;
  /** Null when deployments.yaml itself could not be read. */
  version: string | null;
  stage: Stage | null;
  code: ErrorCode;
  message: string;
  /** When it was first seen (ISO). */
  at: string;
}

export interface Pointers {
  production: string | null;
  canary: { version: string; weight: number } | null;
}

export interface ModelStatus {
  model: string;
  /** The model can answer: it serves a loaded set, or nothing is pointed at all. */
  ready: boolean;
  /** What it serves equals what deployments.yaml asks for. */
  upToDate: boolean;
  serving: Pointers | null;
  desired: Pointers | null;
  failures: LoadFailure[];
}

export interface ServingStatus {
  /** The first check has finished. */
  loaded: boolean;
  checks: number;
  models: Record<string, ModelStatus>;
}

export interface ReloadReport {
  reason: string;
  at: string;
  durationMs: number;
  /** Models whose serving set was swapped. */
  swapped: string[];
  /** Versions loaded by this check. */
  loaded: string[];
  /** Failures seen for the first time in this check. */
  newFailures: LoadFailure[];
  status: ServingStatus;
}

export interface ModelPoolOptions {
  root: string;
  threads?: number;
  /** Watch registry folders with fs.watch (default true). */
  watch?: boolean;
  /** Stat-check interval in ms, the fallback for missed events (default 2000; 0 = off). */
  pollIntervalMs?: number;
  /** Quiet time after a file event before checking (default 50 ms): one git operation, one check. */
  debounceMs?: number;
  /** Swapped-out versions kept loaded per model for a quick way back (default 1; 0 = close at once). */
  keepWarm?: number;
  now?: () => Date;
  onReport?: (r: ReloadReport) => void;
}

interface DesiredVersion {
  version: string;
  stage: Stage;
  manifest: ManifestDoc | null;
  error: LoadFailure | null;
  /** Identity plus file stats: a cached failure is retried when this changes. */
  failureKey: string;
}

interface DesiredModel {
  model: string;
  pointers: Pointers | null;
  error: LoadFailure | null;
  versions: DesiredVersion[];
}

const pointersOf = (d: DeploymentsDoc): Pointers => ({
  production: d.production,
  canary: d.canary ? { version: d.canary.version, weight: d.canary.weight } : null,
});

const samePointers = (a: Pointers | null, b: Pointers | null): boolean =>
  a === b ||
  (a !== null && b !== null && a.production === b.production && a.canary?.version === b.canary?.version && a.canary?.weight === b.canary?.weight);

export class ModelPool {
  private serving = new Map<string, ServingModel>();
  private statusNow: ServingStatus = { loaded: false, checks: 0, models: {} };
  private failureCache = new Map<string, LoadFailure>();
  /** Swapped-out versions kept loaded, by identity, oldest first. */
  private warm = new Map<string, VersionHandle>();
  /** Parsed registry files by path, with the stat key they were read at. */
  private parsed = new Map<string, { key: string; doc: unknown }>();
  private running: Promise<ReloadReport> | null = null;
  private queued: Promise<ReloadReport> | null = null;
  private listeners = new Set<(r: ReloadReport) => void>();
  private watcher: DirWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private lastSignature = '';
  private watchedPaths: string[] = [];
  private closed = false;
  private readonly now: () => Date;

  constructor(private readonly opts: ModelPoolOptions) {
    this.now = opts.now ?? (() => new Date());
    if (opts.onReport) this.listeners.add(opts.onReport);
  }

  /** Runs the first check and starts watching. */
  async start(): Promise<ReloadReport> {
    if (this.opts.watch ?? true) this.watcher = watchDirs(() => this.onFileEvent());
    const pollMs = this.opts.pollIntervalMs ?? 2000;
    if (pollMs > 0) {
      this.pollTimer = setInterval(() => void this.poll(), pollMs);
      this.pollTimer.unref();
    }
    return this.check('start');
  }

  /** The serving set of a model, or undefined when the registry has no such model. */
  get(model: string): ServingModel | undefined {
    return this.serving.get(model);
  }

  models(): string[] {
    return [...this.serving.keys()];
  }

  status(): ServingStatus {
    return this.statusNow;
  }

  onReport(listener: (r: ReloadReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Checks now (after the running check, if any); concurrent calls share one queued check. */
  check(reason = 'manual'): Promise<ReloadReport> {
    if (!this.running) {
      const p = this.runCheck(reason).finally(() => {
        if (this.running === p) this.running = null;
      });
      this.running = p;
      return p;
    }
    this.queued ??= this.running.then(() => {
      this.queued = null;
      return this.check(reason);
    });
    return this.queued;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    await this.queued?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    const handles = [...this.serving.values()].flatMap((s) => [...s.versions.values()]).concat([...this.warm.values()]);
    this.serving = new Map();
    this.warm = new Map();
    for (const h of handles) h.retire();
    await Promise.all(handles.map((h) => h.close()));
  }

  private onFileEvent(): void {
    if (this.closed || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      if (!this.closed) void this.check('watch');
    }, this.opts.debounceMs ?? 50);
  }

  private async poll(): Promise<void> {
    if (this.closed || this.running) return;
    const sig = await this.signature(this.watchedPaths);
    if (!this.closed && !this.running && sig !== this.lastSignature) void this.check('poll');
  }

  /** Stat keys of the registry files that matter, plus the model folders present. */
  private async signature(paths: string[]): Promise<string> {
    const root = this.opts.root;
    const models = await this.listModels();
    const all = new Set(paths);
    for (const m of models) {
      all.add(join(root, modelFile(m)));
      all.add(join(root, deploymentsFile(m)));
    }
    const keys = await Promise.all([...all].sort().map(async (p) => `${p}=${await statKey(p)}`));
    return `${models.join(',')}\n${keys.join('\n')}`;
  }

  private async listModels(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(join(this.opts.root, REGISTRY_DIR));
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names.sort()) {
      if (n === 'schemas' || !isModelName(n)) continue;
      if ((await statKey(join(this.opts.root, modelFile(n)))) !== '-') out.push(n);
    }
    return out;
  }

  private failure(model: string, version: string | null, stage: Stage | null, e: unknown): LoadFailure {
    const err = isMlopsError(e) ? e : new MlopsError('MODEL_LOAD_FAILED', String((e as Error)?.message ?? e));
    return { model, version, stage, code: err.code, message: err.message, at: this.now().toISOString() };
  }

  private async readYaml<T>(rel: string, schema: 'deployments' | 'model-version', code: 'DEPLOYMENTS_INVALID' | 'MANIFEST_INVALID'): Promise<T> {
    const abs = join(this.opts.root, rel);
    // Stat before reading: a change racing the read leaves a stale key, so it is read again.
    const key = await statKey(abs);
    const hit = this.parsed.get(abs);
    if (hit && hit.key === key && key !== '-') return hit.doc as T;
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (cause) {
      throw new MlopsError(code === 'DEPLOYMENTS_INVALID' ? 'FILE_NOT_FOUND' : 'VERSION_NOT_FOUND', `${rel} cannot be read`, { cause });
    }
    const doc = parseAndValidateYaml<T>(text, rel, schema, code);
    this.parsed.set(abs, { key, doc });
    return doc;
  }

  private async readDesired(model: string): Promise<DesiredModel> {
    let deployments: DeploymentsDoc;
    try {
      deployments = await this.readYaml<DeploymentsDoc>(deploymentsFile(model), 'deployments', 'DEPLOYMENTS_INVALID');
      if (deployments.model !== model) {
        throw new MlopsError('DEPLOYMENTS_INVALID', `${deploymentsFile(model)}: model "${deployments.model}" differs from its folder "${model}"`);
      }
    } catch (e) {
      return { model, pointers: null, error: this.failure(model, null, null, e), versions: [] };
    }
    const pointers = pointersOf(deployments);
    const versions: DesiredVersion[] = [];
    const pointed: Array<[Stage, string]> = [];
    if (pointers.production) pointed.push(['production', pointers.production]);
    if (pointers.canary) pointed.push(['canary', pointers.canary.version]);
    for (const [stage, version] of pointed) {
      const rel = manifestFile(model, version);
      try {
        if (!isVersion(version)) throw new MlopsError('VERSION_INVALID', `${deploymentsFile(model)}: ${stage} "${version}" is not a version`);
        const manifest = await this.readYaml<ManifestDoc>(rel, 'model-version', 'MANIFEST_INVALID');
        if (manifest.model !== model || manifest.version !== version) {
          throw new MlopsError('VERSION_FOLDER_MISMATCH', `${rel} describes ${manifest.model}@${manifest.version}, not ${model}@${version}`);
        }
        const stats = await Promise.all(versionPaths(this.opts.root, manifest).map(statKey));
        versions.push({ version, stage, manifest, error: null, failureKey: `${versionIdentity(manifest)}|${stats.join('|')}` });
      } catch (e) {
        versions.push({ version, stage, manifest: null, error: this.failure(model, version, stage, e), failureKey: '' });
      }
    }
    return { model, pointers, error: null, versions };
  }

  private async runCheck(reason: string): Promise<ReloadReport> {
    const t0 = performance.now();
    try {
      return await this.checkOnce(reason, t0);
    } catch (e) {
      // Reading the registry failed in a way no single model explains: keep serving, report it.
      return this.emit(reason, t0, [], [], [this.failure('*', null, null, e)]);
    }
  }

  private async checkOnce(reason: string, t0: number): Promise<ReloadReport> {
    const root = this.opts.root;
    const models = await this.listModels();
    const desired: DesiredModel[] = [];
    for (const m of models) desired.push(await this.readDesired(m));
    // The signature is taken from what this check read, so a change during the check shows up
    // as a difference at the next poll.
    const paths = desired.flatMap((d) => d.versions.flatMap((v) => (v.manifest ? versionPaths(root, v.manifest) : [join(root, manifestFile(d.model, v.version))])));
    const signature = await this.signature(paths);

    const next = new Map<string, ServingModel>();
    const statuses: Record<string, ModelStatus> = {};
    const swapped: string[] = [];
    const loadedNow: string[] = [];
    const newFailures: LoadFailure[] = [];
    const retire: VersionHandle[] = [];
    const park: VersionHandle[] = [];
    const allFresh: VersionHandle[] = [];

    for (const d of desired) {
      const current = this.serving.get(d.model);
      const failures: LoadFailure[] = [];
      if (d.error) failures.push(d.error);
      const handles = new Map<string, VersionHandle>();
      const stages = new Map<string, Stage>();
      const fresh: VersionHandle[] = [];
      if (!d.error) {
        for (const v of d.versions) {
          if (v.error) {
            failures.push(v.error);
            continue;
          }
          const manifest = v.manifest!;
          const identity = versionIdentity(manifest);
          const reuse = current?.versions.get(v.version);
          if (reuse && reuse.loaded.identity === identity && !reuse.isClosed) {
            handles.set(v.version, reuse);
            stages.set(v.version, v.stage);
            continue;
          }
          const parked = this.warm.get(identity);
          if (parked && !parked.isClosed) {
            this.warm.delete(identity);
            handles.set(v.version, parked);
            stages.set(v.version, v.stage);
            continue;
          }
          const cached = this.failureCache.get(v.failureKey);
          if (cached) {
            failures.push({ ...cached, stage: v.stage });
            continue;
          }
          try {
            const loaded = await loadServingVersion({ root, manifest, threads: this.opts.threads });
            const h = new VersionHandle(loaded);
            fresh.push(h);
            allFresh.push(h);
            handles.set(v.version, h);
            stages.set(v.version, v.stage);
            loadedNow.push(`${d.model}@${v.version}`);
          } catch (e) {
            const f = this.failure(d.model, v.version, v.stage, e);
            this.failureCache.set(v.failureKey, f);
            failures.push(f);
          }
        }
      }
      for (const f of failures) if (!this.isKnownFailure(f)) newFailures.push(f);

      if (failures.length === 0 && !this.closed) {
        const unchanged = current && samePointers(pointersOfServing(current), d.pointers) && [...handles.values()].every((h) => current.versions.get(h.loaded.version) === h);
        if (unchanged) {
          next.set(d.model, current);
        } else {
          next.set(d.model, { model: d.model, routing: { model: d.model, ...d.pointers! }, versions: handles, stages });
          swapped.push(d.model);
          if (current) for (const h of current.versions.values()) if (![...handles.values()].includes(h)) park.push(h);
        }
      } else {
        // Keep what served before; drop what was loaded for the set that failed.
        for (const h of fresh) retire.push(h);
        if (current) next.set(d.model, current);
      }
      const serving = next.get(d.model);
      const servingPointers = serving ? pointersOfServing(serving) : null;
      statuses[d.model] = {
        model: d.model,
        ready: serving !== undefined,
        upToDate: failures.length === 0 && samePointers(servingPointers, d.pointers),
        serving: servingPointers,
        desired: d.pointers,
        failures,
      };
    }
    // Models that left the registry stop serving.
    for (const [m, s] of this.serving) if (!next.has(m)) for (const h of s.versions.values()) retire.push(h);

    if (this.closed) {
      // Closed while loading: what this check loaded never serves.
      for (const h of allFresh) h.retire();
      return this.emit(reason, t0, [], [], []);
    }
    this.serving = next; // the swap: one assignment, seen by every request that starts after it
    for (const h of retire) h.retire();
    for (const h of park) this.parkWarm(h);
    this.lastSignature = signature;
    this.watchedPaths = paths;
    this.statusNow = { loaded: true, checks: this.statusNow.checks + 1, models: statuses };
    this.rememberFailures(statuses);
    this.watcher?.update(this.watchDirsFor(models, desired));
    return this.emit(reason, t0, swapped, loadedNow, newFailures);
  }

  /** Keeps a swapped-out version loaded; the oldest beyond keepWarm per model are retired. */
  private parkWarm(h: VersionHandle): void {
    const keep = this.opts.keepWarm ?? 1;
    if (keep <= 0) return h.retire();
    this.warm.delete(h.loaded.identity);
    this.warm.set(h.loaded.identity, h);
    const mine = [...this.warm.values()].filter((w) => w.loaded.model === h.loaded.model);
    for (const old of mine.slice(0, Math.max(0, mine.length - keep))) {
      this.warm.delete(old.loaded.identity);
      old.retire();
    }
  }

  private knownFailures = new Set<string>();

  private failureId(f: LoadFailure): string {
    return `${f.model}\0${f.version}\0${f.code}\0${f.message}`;
  }

  private isKnownFailure(f: LoadFailure): boolean {
    return this.knownFailures.has(this.failureId(f));
  }

  private rememberFailures(statuses: Record<string, ModelStatus>): void {
    // Known = present in the latest status; a failure that clears and comes back is new again.
    this.knownFailures = new Set(Object.values(statuses).flatMap((s) => s.failures.map((f) => this.failureId(f))));
  }

  private watchDirsFor(models: string[], desired: DesiredModel[]): string[] {
    const root = this.opts.root;
    const dirs = [join(root, REGISTRY_DIR), join(root, SCHEMAS_DIR)];
    for (const m of models) dirs.push(join(root, modelDir(m)), join(root, versionsDir(m)));
    for (const d of desired) for (const v of d.versions) dirs.push(join(root, versionDir(d.model, v.version)));
    return dirs;
  }

  private emit(reason: string, t0: number, swapped: string[], loaded: string[], newFailures: LoadFailure[]): ReloadReport {
    const report: ReloadReport = {
      reason,
      at: this.now().toISOString(),
      durationMs: performance.now() - t0,
      swapped,
      loaded,
      newFailures,
      status: this.statusNow,
    };
    for (const l of [...this.listeners]) {
      try {
        l(report);
      } catch {
        // A listener's bug must not stop reloads.
      }
    }
    return report;
  }
}

function pointersOfServing(s: ServingModel): Pointers {
  return { production: s.routing.production, canary: s.routing.canary ? { version: s.routing.canary.version, weight: s.routing.canary.weight } : null };
}
