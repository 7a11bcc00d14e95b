// Reads the registry from the working tree: model.yaml, deployments.yaml and manifests, each
// parsed and validated once and then served from the stat-keyed parse cache. The YAML and
// JSON Schema code is only loaded when a file actually has to be parsed. `mlops list` reads a
// second cache holding only the fields of each manifest it shows (about half the bytes), so
// listing a thousand versions neither reads nor parses the full manifests.
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { ParseCache } from '../util/parse-cache.js';
import { deploymentsFile, manifestFile, modelFile, REGISTRY_DIR, versionsDir } from '../registry/paths.js';
import { isModelName, isVersion } from '../registry/semver.js';
import type { DeploymentsDoc, ManifestDoc, ModelDoc, ModelState, VersionEntry, VersionSummary } from '../registry/types.js';
import type { ErrorCode } from '../errors.js';
import type { SchemaName } from '../util/validate.js';
import { TOOL_VERSION } from '../version.js';

type Validate = (text: string, file: string, name: SchemaName, code: ErrorCode) => unknown;
let validateYaml: Validate | undefined;

async function loadValidator(): Promise<Validate> {
  validateYaml ??= (await import('../util/validate.js')).parseAndValidateYaml;
  return validateYaml;
}

export class RegistryStore {
  private caches = new Map<string, ParseCache>();

  constructor(readonly root: string) {}

  /** The named cache, opened on first use (a command reading no file opens none). */
  private cache(name: 'registry' | 'summaries'): ParseCache {
    let c = this.caches.get(name);
    if (!c) {
      // Every summary is read whenever that cache is, so it is parsed whole.
      c = ParseCache.open(join(this.root, '.mlops', 'cache'), name, TOOL_VERSION, { eager: name === 'summaries' });
      this.caches.set(name, c);
    }
    return c;
  }

  /** Models: folders under registry/ holding a model.yaml. */
  listModels(): string[] {
    let names: string[];
    try {
      names = readdirSync(join(this.root, REGISTRY_DIR));
    } catch {
      return [];
    }
    return names.filter((n) => n !== 'schemas' && isModelName(n) && statOrNull(join(this.root, modelFile(n)))).sort();
  }

  /** Reads one registry YAML file (relative path), from the cache when its stat is unchanged. */
  async readYaml<T>(rel: string, schema: SchemaName, code: ErrorCode, notFound: () => MlopsError): Promise<T> {
    const value = await this.readYamlIfPresent<T>(rel, schema, code);
    if (value === null) throw notFound();
    return value;
  }

  /** readYaml, or null when the file does not exist (one stat either way). */
  async readYamlIfPresent<T>(rel: string, schema: SchemaName, code: ErrorCode): Promise<T | null> {
    const found = this.lookup<T>(rel, 'registry');
    if (!found) return null;
    return found.hit ?? this.parseInto(rel, found.st, schema, code, 'registry', (doc: T) => doc);
  }

  /**
   * The stat of a file and its cached value if still valid; null when the file does not exist.
   * Synchronous, so that reading a thousand cached files costs no promise per file.
   */
  private lookup<T>(rel: string, cacheName: 'registry' | 'summaries'): { st: Stats; hit: T | undefined } | null {
    const st = statOrNull(this.abs(rel));
    return st ? { st, hit: this.cache(cacheName).get<T>(rel, st) } : null;
  }

  /** Concatenated, not path.join: `rel` is already normal, and a thousand joins show in `list`. */
  private abs(rel: string): string {
    return `${this.root}/${rel}`;
  }

  /** Parses and validates a file new or changed since the cache saw it; caches `derive` of it. */
  private async parseInto<D, T>(
    rel: string,
    st: Stats,
    schema: SchemaName,
    code: ErrorCode,
    cacheName: 'registry' | 'summaries',
    derive: (doc: D) => T,
  ): Promise<T> {
    const decoded = decodeUtf8(readFileSync(this.abs(rel)), rel);
    const value = derive((await loadValidator())(decoded, rel, schema, code) as D);
    this.cache(cacheName).set(rel, st, value);
    return value;
  }

  async readModel(model: string): Promise<ModelDoc> {
    const doc = await this.readYaml<ModelDoc>(modelFile(model), 'model', 'SCHEMA_INVALID', () => modelNotFound(model, this.listModels()));
    if (doc.name !== model) {
      throw new MlopsError('SCHEMA_INVALID', `${modelFile(model)}: name "${doc.name}" differs from its folder "${model}"`, {
        hint: `Set name: ${model}, or rename the folder.`,
      });
    }
    return doc;
  }

  async readDeployments(model: string): Promise<DeploymentsDoc> {
    const doc = await this.readYaml<DeploymentsDoc>(deploymentsFile(model), 'deployments', 'DEPLOYMENTS_INVALID', () =>
      new MlopsError('FILE_NOT_FOUND', `${deploymentsFile(model)} is missing`, { hint: 'Run `mlops init --model ' + model + '` to create it.' }),
    );
    if (doc.model !== model) {
      throw new MlopsError('DEPLOYMENTS_INVALID', `${deploymentsFile(model)}: model "${doc.model}" differs from its folder "${model}"`, {
        hint: `Set model: ${model}.`,
      });
    }
    return doc;
  }

  /** Version folder names (valid or not) under registry/<model>/versions. */
  listVersionFolders(model: string): string[] {
    try {
      return readdirSync(join(this.root, versionsDir(model)), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  }

  async readManifest(model: string, version: string): Promise<ManifestDoc> {
    const rel = manifestFile(model, version);
    const doc = await this.readYaml<ManifestDoc>(rel, 'model-version', 'MANIFEST_INVALID', () =>
      new MlopsError('VERSION_NOT_FOUND', `${model}@${version} is not registered (no ${rel})`, {
        hint: `See the registered versions with \`mlops list --model ${model}\`.`,
      }),
    );
    checkManifestIdentity(doc, model, version, rel);
    return doc;
  }

  /** The model with its deployments and every manifest. Throws on the first invalid file. */
  async loadModel(model: string): Promise<Omit<ModelState, 'taggedVersions'>> {
    const [modelDoc, deployments] = [await this.readModel(model), await this.readDeployments(model)];
    const versions = new Map<string, VersionEntry>();
    for (const folder of this.listVersionFolders(model)) {
      const rel = manifestFile(model, folder);
      const found = this.lookup<ManifestDoc>(rel, 'registry');
      if (!found) continue; // an empty folder is not a version
      const manifest = found.hit ?? (await this.parseInto(rel, found.st, 'model-version', 'MANIFEST_INVALID', 'registry', (d: ManifestDoc) => d));
      checkManifestIdentity(manifest, model, folder, rel);
      versions.set(manifest.version, { manifest, folder: join(versionsDir(model), folder).split('\\').join('/') });
    }
    this.flush();
    return { model: modelDoc, deployments, versions };
  }

  /**
   * The model, its deployments and the summary of every version (what `mlops list` shows).
   * A manifest's identity (model and version against its folder) is checked when its summary
   * is made; a cache hit is the same unchanged file at the same path.
   */
  async loadSummaries(model: string): Promise<{ model: ModelDoc; deployments: DeploymentsDoc; versions: VersionSummary[] }> {
    const [modelDoc, deployments] = [await this.readModel(model), await this.readDeployments(model)];
    const versions: VersionSummary[] = [];
    // Every entry, not only folders: an entry without a manifest (a file, an empty folder) has
    // no stat below and is skipped, and the directory listing needs no object per entry.
    let entries: string[];
    try {
      entries = readdirSync(join(this.root, versionsDir(model)));
    } catch {
      entries = [];
    }
    for (const folder of entries) {
      const rel = manifestFile(model, folder);
      const found = this.lookup<VersionSummary>(rel, 'summaries');
      if (!found) continue; // an empty folder is not a version
      versions.push(
        found.hit ??
          (await this.parseInto(rel, found.st, 'model-version', 'MANIFEST_INVALID', 'summaries', (doc: ManifestDoc) => {
            checkManifestIdentity(doc, model, folder, rel);
            return summarize(doc);
          })),
      );
    }
    this.flush();
    return { model: modelDoc, deployments, versions };
  }

  /** Persists what was parsed so far (call at the end of a read command). */
  flush(): void {
    for (const c of this.caches.values()) c.save();
  }
}

/** The fields of a manifest that `mlops list` shows or derives the status from. */
export function summarize(m: ManifestDoc): VersionSummary {
  return {
    version: m.version,
    created_at: m.created_at,
    parent: m.parent,
    dataset: { name: m.dataset.name, sha256: m.dataset.sha256, rows: m.dataset.rows },
    schema: m.schema.version,
    trainer: m.training.trainer,
    metrics: m.metrics,
    state: m.lifecycle.state,
    reason: m.lifecycle.reason,
  };
}

export function checkManifestIdentity(doc: ManifestDoc, model: string, folder: string, rel: string): void {
  if (doc.version !== folder) {
    throw new MlopsError('VERSION_FOLDER_MISMATCH', `${rel}: version ${doc.version} differs from its folder name ${folder}`, {
      hint: 'A version folder is named after its version; manifests are written once by `mlops register`.',
    });
  }
  if (doc.model !== model) {
    throw new MlopsError('MANIFEST_INVALID', `${rel}: model "${doc.model}" differs from its folder "${model}"`, { hint: `Set model: ${model}.` });
  }
  if (!isVersion(folder)) {
    throw new MlopsError('VERSION_INVALID', `${rel}: folder ${folder} is not a version`, { hint: 'Version folders are named like v1.2.3.' });
  }
}

export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null; // e.g. a path through a file (ENOTDIR)
  }
}

export function modelNotFound(model: string, known: string[]): MlopsError {
  return new MlopsError('MODEL_NOT_FOUND', `model "${model}" is not in this registry (no ${modelFile(model)})`, {
    hint: known.length ? `Known models: ${known.join(', ')}.` : 'Create it with `mlops init --model ' + model + '`.',
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new MlopsError('ENCODING_INVALID', `${file} is not valid UTF-8`, { cause, hint: 'Registry files are UTF-8 text.' });
  }
}
