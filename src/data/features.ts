// Feature schemas (SPEC 6.1) and the featurizer: a pure function of (schema, fitted state, raw
// record) -> Float32Array, the same code in training and in serving. The fitted state is plain
// JSON (saved beside the model as features.json and hashed in the manifest). Pure: no fs, no
// clock; node:crypto only for the SHA-256 of hashed buckets.
//
// Rules worth knowing:
// - `execution_time`, `failure_reason` and `result` are outcomes; `response_time_ms`, `model` and
//   `model_version` describe the serving model, `task_id` is an id. None may be a model input.
// - one_hot / tld: a value not in `categories` gives all zeros (`unknown: zeros`, the default),
//   or a 1 in an extra `<name>=__unknown__` column (`unknown: column`).
// - hashed_bucket: bucket = (first 4 bytes of SHA-256(utf8("<name>:<value>"))) mod buckets, as
//   routing does, so any language reproduces it; one column per bucket, all zeros when missing.
// - target_rate: (successes + smoothing * prior) / (count + smoothing) per value, fitted on the
//   training split only (fitFeaturizer drops other splits by default); an unseen value gets the
//   prior (the overall success rate of the training split).
// - A missing source gives `missing` (default 0) for numeric transforms and zeros for categorical
//   ones, unless the feature is `required`, which raises FEATURE_MISSING.
import { createHash } from 'node:crypto';
import { MlopsError, type Problem } from '../errors.js';
import { throwProblems, validateValue } from '../util/validate.js';
import { parseYaml } from '../util/yaml.js';
import type { OutcomeRecord, FeatureValue } from './outcome.js';
import { splitOf } from './split.js';

export type Transform =
  | 'numeric'
  | 'log1p'
  | 'boolean'
  | 'one_hot'
  | 'hashed_bucket'
  | 'target_rate'
  | 'tld'
  | 'subdomain_depth'
  | 'path_depth'
  | 'https'
  | 'hour'
  | 'weekday';

export interface FeatureSpec {
  name: string;
  description?: string;
  source: string;
  transform: Transform;
  required?: boolean;
  missing?: number;
  clip?: [number, number];
  scale?: 'none' | 'standard';
  categories?: string[];
  unknown?: 'zeros' | 'column';
  buckets?: number;
  smoothing?: number;
  max_categories?: number;
  encoding?: 'numeric' | 'cyclic';
}

export interface FeatureSchema {
  apiVersion: 'mlops/v1';
  kind: 'FeatureSchema';
  version: string;
  description?: string;
  label?: { field: 'result'; positive?: Array<'success' | 'failure' | 'error'> };
  features: FeatureSpec[];
}

/** What the featurizer reads: an outcome record, or the raw request of a prediction (no result yet). */
export type FeatureInput = Partial<Omit<OutcomeRecord, 'features'>> & { features?: Record<string, FeatureValue> | null };

/** Fitted parameters of one feature (only for transforms that learn something). */
export type FittedFeature =
  | { kind: 'none' }
  | { kind: 'standard'; mean: number; std: number }
  | { kind: 'target_rate'; prior: number; smoothing: number; rates: Record<string, number> };

/** The fitted state: plain JSON, saved as features.json beside the model. */
export interface FittedState {
  apiVersion: 'mlops/v1';
  kind: 'FeatureState';
  schema_version: string;
  /** Output column names, in order. */
  names: string[];
  /** Rows and positives of the records the state was fitted on. */
  fitted_on: { rows: number; positives: number };
  features: Record<string, FittedFeature>;
}

/** Outcomes, serving facts and ids: never model inputs. */
const FORBIDDEN_SOURCES: Record<string, string> = {
  execution_time: 'is an outcome of the attempt (known only afterwards)',
  failure_reason: 'is an outcome of the attempt (known only afterwards)',
  result: 'is the label',
  response_time_ms: 'is the serving latency of the model, not a property of the task',
  model: 'names the serving model, not a property of the task',
  model_version: 'names the serving model, not a property of the task',
  task_id: 'is an identifier, not a property of the task',
};

const STRING_SOURCES = new Set(['domain', 'url', 'action_attempted']);
const OPTION_KEYS: Record<Transform, string[]> = {
  numeric: ['missing', 'clip', 'scale'],
  log1p: ['missing', 'clip', 'scale'],
  boolean: ['missing'],
  one_hot: ['categories', 'unknown'],
  hashed_bucket: ['buckets'],
  target_rate: ['smoothing', 'max_categories'],
  tld: ['categories', 'unknown'],
  subdomain_depth: ['missing'],
  path_depth: ['missing'],
  https: [],
  hour: ['encoding'],
  weekday: ['encoding'],
};
const COMMON_KEYS = new Set(['name', 'description', 'source', 'transform', 'required']);

/** Default TLD categories of the tld transform. */
export const DEFAULT_TLDS = ['com', 'org', 'net', 'io', 'edu', 'gov', 'info', 'co', 'de', 'uk', 'co.uk', 'fr', 'ru', 'nl', 'au', 'com.au'];

// Two-label public suffixes common enough to matter for depth and TLD; not the full Public Suffix
// List (which changes weekly and would make features depend on its version).
const TWO_LABEL_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'com.au', 'net.au', 'org.au', 'edu.au', 'co.nz', 'org.nz',
  'co.jp', 'ne.jp', 'or.jp', 'com.br', 'net.br', 'org.br', 'co.in', 'net.in', 'org.in', 'co.za', 'com.mx',
  'com.cn', 'net.cn', 'org.cn', 'com.tr', 'co.kr', 'com.sg', 'com.ar', 'co.il', 'com.tw', 'com.hk',
]);

/** Semantic problems of a schema that validated against its JSON Schema. */
function schemaProblems(schema: FeatureSchema, file: string, lineAt?: (p: string) => number | undefined): Problem[] {
  const problems: Problem[] = [];
  const add = (i: number, key: string, message: string) =>
    problems.push({ code: 'FEATURE_SCHEMA_INVALID', path: file, line: lineAt?.(`/features/${i}/${key}`), message: `/features/${i}/${key}: ${message}` });
  const names = new Set<string>();
  schema.features.forEach((f, i) => {
    if (names.has(f.name)) add(i, 'name', `feature name "${f.name}" is used twice`);
    names.add(f.name);
    const why = FORBIDDEN_SOURCES[f.source];
    if (why) add(i, 'source', `"${f.source}" cannot be a model input: it ${why}`);
    const allowed = new Set([...COMMON_KEYS, ...OPTION_KEYS[f.transform]]);
    for (const k of Object.keys(f)) if (!allowed.has(k)) add(i, k, `"${k}" does not apply to transform ${f.transform}`);
    const isFeature = f.source.startsWith('features.');
    switch (f.transform) {
      case 'numeric':
      case 'log1p':
      case 'boolean':
        if (!isFeature) add(i, 'source', `${f.transform} needs a numeric source (features.<key>), not ${f.source}`);
        break;
      case 'one_hot':
      case 'hashed_bucket':
      case 'target_rate':
        if (!isFeature && !STRING_SOURCES.has(f.source)) add(i, 'source', `${f.transform} needs a text source (domain, url, action_attempted or features.<key>), not ${f.source}`);
        break;
      case 'tld':
      case 'subdomain_depth':
        if (f.source !== 'domain' && f.source !== 'url') add(i, 'source', `${f.transform} reads a host: source must be domain or url`);
        break;
      case 'path_depth':
      case 'https':
        if (f.source !== 'url') add(i, 'source', `${f.transform} reads a URL: source must be url`);
        break;
      case 'hour':
      case 'weekday':
        if (f.source !== 'timestamp') add(i, 'source', `${f.transform} reads a time: source must be timestamp`);
        break;
    }
    if (f.clip && !(f.clip[0] <= f.clip[1])) add(i, 'clip', 'must be [low, high] with low <= high');
  });
  const cols = new Set<string>();
  for (const n of outputNames(schema)) {
    if (cols.has(n)) problems.push({ code: 'FEATURE_SCHEMA_INVALID', path: file, message: `output column "${n}" appears twice; rename a feature` });
    cols.add(n);
  }
  return problems;
}

/** Parses and checks a feature schema; throws FEATURE_SCHEMA_INVALID listing every problem. */
export function parseFeatureSchema(text: string, file = 'feature schema'): FeatureSchema {
  const parsed = parseYaml(text, file);
  throwProblems('FEATURE_SCHEMA_INVALID', file, validateValue('feature-schema', parsed.value, { file, code: 'FEATURE_SCHEMA_INVALID', lineAt: parsed.lineAt }));
  const schema = parsed.value as FeatureSchema;
  throwProblems('FEATURE_SCHEMA_INVALID', file, schemaProblems(schema, file, parsed.lineAt));
  return schema;
}

/** Checks a schema object built in code (same rules as parseFeatureSchema). */
export function checkFeatureSchema(schema: unknown, file = 'feature schema'): FeatureSchema {
  throwProblems('FEATURE_SCHEMA_INVALID', file, validateValue('feature-schema', schema, { file, code: 'FEATURE_SCHEMA_INVALID' }));
  throwProblems('FEATURE_SCHEMA_INVALID', file, schemaProblems(schema as FeatureSchema, file));
  return schema as FeatureSchema;
}

/** Output column names of a schema, in order (they do not depend on fitting). */
function outputNames(schema: FeatureSchema): string[] {
  const names: string[] = [];
  for (const f of schema.features) {
    switch (f.transform) {
      case 'one_hot':
      case 'tld': {
        const cats = f.categories ?? (f.transform === 'tld' ? DEFAULT_TLDS : []);
        for (const c of cats) names.push(`${f.name}=${c}`);
        if (f.unknown === 'column') names.push(`${f.name}=__unknown__`);
        break;
      }
      case 'hashed_bucket':
        for (let b = 0; b < f.buckets!; b++) names.push(`${f.name}#${b}`);
        break;
      case 'hour':
      case 'weekday':
        if (f.encoding === 'cyclic') names.push(`${f.name}_sin`, `${f.name}_cos`);
        else names.push(f.name);
        break;
      default:
        names.push(f.name);
    }
  }
  return names;
}

/** Output column names, in the order of the vectors featurize returns. */
export function featureNames(schema: FeatureSchema, state?: FittedState): string[] {
  const names = outputNames(schema);
  if (state) assertState(schema, state, names);
  return names;
}

/** 1 when the record's result is a positive label (success by default), else 0. */
export function labelOf(schema: FeatureSchema, record: { result?: string | boolean | null }): 0 | 1 {
  const r = record.result === true ? 'success' : record.result === false ? 'failure' : record.result;
  const positive = schema.label?.positive ?? ['success'];
  return r != null && (positive as string[]).includes(r) ? 1 : 0;
}

export function labelsOf(schema: FeatureSchema, records: ReadonlyArray<{ result?: string | boolean | null }>): Uint8Array {
  const y = new Uint8Array(records.length);
  for (let i = 0; i < records.length; i++) y[i] = labelOf(schema, records[i]!);
  return y;
}

// ---- reading sources ----

function sourceValue(record: FeatureInput, source: string): FeatureValue | undefined {
  if (source.startsWith('features.')) {
    const v = record.features?.[source.slice(9)];
    return v === undefined ? undefined : v;
  }
  const v = (record as Record<string, unknown>)[source];
  return v === undefined ? undefined : (v as FeatureValue);
}

function isMissing(v: FeatureValue | undefined): v is null | undefined {
  return v === undefined || v === null || v === '';
}

function toNumber(v: FeatureValue | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function toText(v: FeatureValue | undefined): string | null {
  if (isMissing(v)) return null;
  return typeof v === 'string' ? v : String(v);
}

/** Lower-cased host of a URL or a bare domain, without port, userinfo or trailing dot. */
export function hostOf(value: string): string | null {
  let s = value.trim().toLowerCase();
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  else if (s.startsWith('//')) s = s.slice(2);
  const end = s.search(/[/?#]/);
  if (end >= 0) s = s.slice(0, end);
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  if (s.startsWith('[')) return null; // IPv6 literal: no domain features
  const colon = s.indexOf(':');
  if (colon >= 0) s = s.slice(0, colon);
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s || null;
}

function isIpv4(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/** The public suffix of a host: the last label, or the last two for common two-label suffixes. */
export function tldOf(host: string): string | null {
  if (isIpv4(host)) return null;
  const labels = host.split('.');
  if (labels.length >= 3) {
    const two = labels.slice(-2).join('.');
    if (TWO_LABEL_SUFFIXES.has(two)) return two;
  }
  return labels.length >= 2 ? labels[labels.length - 1]! : null;
}

/** Labels left of the registrable domain, not counting a leading `www`. */
export function subdomainDepth(host: string): number {
  if (isIpv4(host)) return 0;
  const tld = tldOf(host);
  if (!tld) return 0;
  const labels = host.split('.');
  let depth = labels.length - tld.split('.').length - 1;
  if (depth > 0 && labels[0] === 'www') depth--;
  return Math.max(0, depth);
}

/** Non-empty path segments of a URL (`/a/b/` -> 2). */
export function pathDepth(url: string): number {
  let s = url.trim();
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  else if (s.startsWith('//')) s = s.slice(2);
  if (!s.startsWith('/')) {
    // Drop the host: what follows its first slash is the path.
    const slash = s.indexOf('/');
    s = slash >= 0 ? s.slice(slash) : '';
  }
  const end = s.search(/[?#]/);
  if (end >= 0) s = s.slice(0, end);
  return s.split('/').filter((p) => p !== '').length;
}

function bucketOf(name: string, value: string, buckets: number): number {
  const d = createHash('sha256').update(`${name}:${value}`, 'utf8').digest();
  return d.readUInt32BE(0) % buckets;
}

// ---- fitting ----

export interface FitOptions {
  /**
   * Fit only on records whose task_id falls in the training split (SPEC 6.2). Default true, so
   * passing the whole dataset cannot leak validation or test labels into target rates.
   */
  trainSplitOnly?: boolean;
}

/** Raw (unscaled) numeric value of a numeric/log1p feature, or null when missing. */
function rawNumeric(f: FeatureSpec, record: FeatureInput): number | null {
  const v = sourceValue(record, f.source);
  let n = toNumber(v);
  if (n === null) return null;
  if (f.transform === 'log1p') n = Math.log1p(Math.max(0, n));
  if (f.clip) n = Math.min(f.clip[1], Math.max(f.clip[0], n));
  return n;
}

/**
 * Fits what the schema learns from data (target rates, standardisation) on the training records.
 * The result is plain JSON.
 */
export function fitFeaturizer(schema: FeatureSchema, records: Iterable<OutcomeRecord | FeatureInput>, opts: FitOptions = {}): FittedState {
  const trainOnly = opts.trainSplitOnly ?? true;
  const rows: FeatureInput[] = [];
  let positives = 0;
  for (const r of records) {
    if (trainOnly && typeof r.task_id === 'string' && splitOf(r.task_id) !== 'train') continue;
    rows.push(r);
    positives += labelOf(schema, r);
  }
  const prior = rows.length ? positives / rows.length : 0;
  const features: Record<string, FittedFeature> = {};
  for (const f of schema.features) {
    if (f.transform === 'target_rate') {
      const counts = new Map<string, [number, number]>();
      for (const r of rows) {
        const key = toText(sourceValue(r, f.source));
        if (key === null) continue;
        const c = counts.get(key) ?? [0, 0];
        c[0]++;
        c[1] += labelOf(schema, r);
        counts.set(key, c);
      }
      const m = f.smoothing ?? 10;
      let entries = [...counts.entries()];
      const max = f.max_categories ?? 100_000;
      if (entries.length > max) {
        // Keep the most frequent values; ties by value so the state does not depend on input order.
        entries.sort((a, b) => b[1][0] - a[1][0] || (a[0] < b[0] ? -1 : 1));
        entries = entries.slice(0, max);
      }
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const rates: Record<string, number> = {};
      for (const [k, [n, s]] of entries) rates[k] = round((s + m * prior) / (n + m));
      features[f.name] = { kind: 'target_rate', prior: round(prior), smoothing: m, rates };
    } else if ((f.transform === 'numeric' || f.transform === 'log1p') && f.scale === 'standard') {
      let n = 0;
      let mean = 0;
      let m2 = 0;
      for (const r of rows) {
        const x = rawNumeric(f, r) ?? f.missing ?? 0;
        n++;
        const d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
      }
      const std = n > 1 ? Math.sqrt(m2 / (n - 1)) : 1;
      features[f.name] = { kind: 'standard', mean: round(mean), std: round(std > 1e-12 ? std : 1) };
    } else {
      features[f.name] = { kind: 'none' };
    }
  }
  return {
    apiVersion: 'mlops/v1',
    kind: 'FeatureState',
    schema_version: schema.version,
    names: outputNames(schema),
    fitted_on: { rows: rows.length, positives },
    features,
  };
}

// Stored values are rounded to float32-safe doubles with 12 significant digits, so the JSON
// is short and the same state serialises identically everywhere.
function round(x: number): number {
  return Number(x.toPrecision(12));
}

function assertState(schema: FeatureSchema, state: FittedState, names = outputNames(schema)): void {
  const bad = (why: string) =>
    new MlopsError('FEATURE_STATE_INVALID', `fitted feature state does not belong to schema ${schema.version}: ${why}`, {
      hint: 'Use the features.json saved with the model version that was trained on this schema.',
    });
  if (!state || state.kind !== 'FeatureState' || state.apiVersion !== 'mlops/v1') throw bad('not a FeatureState');
  if (state.schema_version !== schema.version) throw bad(`it was fitted for ${state.schema_version}`);
  if (!Array.isArray(state.names) || state.names.length !== names.length || state.names.some((n, i) => n !== names[i])) {
    throw bad('its column names differ from the schema');
  }
  for (const f of schema.features) {
    const s = state.features?.[f.name];
    if (!s) throw bad(`no fitted entry for ${f.name}`);
    if (f.transform === 'target_rate' && (s.kind !== 'target_rate' || typeof s.prior !== 'number' || typeof s.rates !== 'object')) throw bad(`${f.name} is not a fitted target rate`);
    if ((f.transform === 'numeric' || f.transform === 'log1p') && f.scale === 'standard' && (s.kind !== 'standard' || !(s.std > 0))) throw bad(`${f.name} is not a fitted standardisation`);
  }
}

// ---- featurizing ----

type Writer = (record: FeatureInput, out: Float32Array, at: number) => void;

const compiled = new WeakMap<FittedState, WeakMap<FeatureSchema, { write: Writer; width: number }>>();

function missingError(f: FeatureSpec): MlopsError {
  return new MlopsError('FEATURE_MISSING', `feature ${f.name} needs ${f.source}, which the record does not have`, {
    hint: `Send ${f.source} with the request, or drop \`required: true\` from the schema to use a default.`,
  });
}

function compile(schema: FeatureSchema, state: FittedState): { write: Writer; width: number } {
  let bySchema = compiled.get(state);
  const hit = bySchema?.get(schema);
  if (hit) return hit;
  assertState(schema, state);
  const parts: Writer[] = [];
  let width = 0;
  for (const f of schema.features) {
    const col = width;
    const fitted = state.features[f.name]!;
    const miss = f.missing ?? 0;
    switch (f.transform) {
      case 'numeric':
      case 'log1p': {
        const [mean, std] = fitted.kind === 'standard' ? [fitted.mean, fitted.std] : [0, 1];
        parts.push((r, out, at) => {
          const v = rawNumeric(f, r);
          if (v === null && f.required && isMissing(sourceValue(r, f.source))) throw missingError(f);
          out[at + col] = ((v ?? miss) - mean) / std;
        });
        width += 1;
        break;
      }
      case 'boolean':
        parts.push((r, out, at) => {
          const v = sourceValue(r, f.source);
          if (isMissing(v)) {
            if (f.required) throw missingError(f);
            out[at + col] = miss;
            return;
          }
          const t = typeof v === 'string' ? v.trim().toLowerCase() : v;
          out[at + col] = t === true || t === 1 || t === 'true' || t === '1' || t === 'yes' ? 1 : 0;
        });
        width += 1;
        break;
      case 'one_hot':
      case 'tld': {
        const cats = f.categories ?? DEFAULT_TLDS;
        const index = new Map(cats.map((c, i) => [c, i]));
        const unknownCol = f.unknown === 'column' ? cats.length : -1;
        parts.push((r, out, at) => {
          let key: string | null;
          const v = sourceValue(r, f.source);
          if (isMissing(v)) {
            if (f.required) throw missingError(f);
            key = null;
          } else if (f.transform === 'tld') {
            const host = hostOf(toText(v)!);
            key = host ? tldOf(host) : null;
          } else key = toText(v);
          const i = key === null ? undefined : index.get(key);
          if (i !== undefined) out[at + col + i] = 1;
          else if (unknownCol >= 0 && key !== null) out[at + col + unknownCol] = 1;
        });
        width += cats.length + (unknownCol >= 0 ? 1 : 0);
        break;
      }
      case 'hashed_bucket': {
        const n = f.buckets!;
        parts.push((r, out, at) => {
          const v = sourceValue(r, f.source);
          if (isMissing(v)) {
            if (f.required) throw missingError(f);
            return;
          }
          out[at + col + bucketOf(f.name, toText(v)!, n)] = 1;
        });
        width += n;
        break;
      }
      case 'target_rate': {
        if (fitted.kind !== 'target_rate') throw new MlopsError('FEATURE_STATE_INVALID', `${f.name} is not fitted`);
        const rates = new Map(Object.entries(fitted.rates));
        const prior = fitted.prior;
        parts.push((r, out, at) => {
          const v = sourceValue(r, f.source);
          if (isMissing(v) && f.required) throw missingError(f);
          const key = toText(v);
          out[at + col] = key === null ? prior : rates.get(key) ?? prior;
        });
        width += 1;
        break;
      }
      case 'subdomain_depth':
      case 'path_depth':
      case 'https':
        parts.push((r, out, at) => {
          const v = sourceValue(r, f.source);
          if (isMissing(v)) {
            if (f.required) throw missingError(f);
            out[at + col] = f.transform === 'https' ? 0 : miss;
            return;
          }
          const s = toText(v)!;
          if (f.transform === 'https') out[at + col] = /^https:\/\//i.test(s.trim()) ? 1 : 0;
          else if (f.transform === 'path_depth') out[at + col] = pathDepth(s);
          else {
            const host = hostOf(s);
            out[at + col] = host ? subdomainDepth(host) : miss;
          }
        });
        width += 1;
        break;
      case 'hour':
      case 'weekday': {
        const cyclic = f.encoding === 'cyclic';
        const period = f.transform === 'hour' ? 24 : 7;
        parts.push((r, out, at) => {
          const v = sourceValue(r, f.source);
          const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
          if (!Number.isFinite(ms)) {
            if (f.required) throw missingError(f);
            return; // zeros (cyclic: the point (0, 0) is no hour)
          }
          const d = new Date(ms);
          // Weekday 0 = Monday ... 6 = Sunday (ISO order), in UTC like every timestamp here.
          const x = f.transform === 'hour' ? d.getUTCHours() : (d.getUTCDay() + 6) % 7;
          if (cyclic) {
            out[at + col] = Math.sin((2 * Math.PI * x) / period);
            out[at + col + 1] = Math.cos((2 * Math.PI * x) / period);
          } else out[at + col] = x;
        });
        width += cyclic ? 2 : 1;
        break;
      }
    }
  }
  const write: Writer = (record, out, at) => {
    for (const p of parts) p(record, out, at);
  };
  const result = { write, width };
  if (!bySchema) {
    bySchema = new WeakMap();
    compiled.set(state, bySchema);
  }
  bySchema.set(schema, result);
  return result;
}

/** The model input of one record (length = featureNames(schema).length). */
export function featurize(schema: FeatureSchema, state: FittedState, record: FeatureInput): Float32Array {
  const c = compile(schema, state);
  const out = new Float32Array(c.width);
  c.write(record, out, 0);
  return out;
}

/** The model inputs of many records as one row-major n x f matrix. */
export function featurizeMany(schema: FeatureSchema, state: FittedState, records: ReadonlyArray<FeatureInput>): { X: Float32Array; n: number; f: number } {
  const c = compile(schema, state);
  const n = records.length;
  const X = new Float32Array(n * c.width);
  for (let i = 0; i < n; i++) c.write(records[i]!, X, i * c.width);
  return { X, n, f: c.width };
}

/** The canonical JSON of a fitted state (what is written to features.json and hashed). */
export function serializeFittedState(state: FittedState): string {
  return JSON.stringify(state, null, 2) + '\n';
}

/** Parses features.json; throws FEATURE_STATE_INVALID. */
export function parseFittedState(text: string, schema?: FeatureSchema): FittedState {
  let state: FittedState;
  try {
    state = JSON.parse(text) as FittedState;
  } catch (cause) {
    throw new MlopsError('FEATURE_STATE_INVALID', 'features.json is not JSON', { cause });
  }
  if (!state || state.kind !== 'FeatureState' || state.apiVersion !== 'mlops/v1' || !Array.isArray(state.names) || typeof state.features !== 'object') {
    throw new MlopsError('FEATURE_STATE_INVALID', 'features.json is not a FeatureState', { hint: 'It is written by `mlops train` beside model.onnx.' });
  }
  if (schema) assertState(schema, state);
  return state;
}

/** The starter schema `mlops init` writes to registry/schemas/<version>.yaml. */
export function starterFeatureSchema(version = 'schema_v1.0'): string {
  return `# yaml-language-server: $schema=https://mlops-gitops.dev/schemas/feature-schema.schema.json
# Model inputs, in order. Each feature reads one raw field of the outcome record (or
# features.<key>) and applies one transform. execution_time and failure_reason are outcomes,
# never inputs. Fitted values (target rates, scaling) are saved beside each model version.
apiVersion: mlops/v1
kind: FeatureSchema
version: ${version}
description: Inputs of the backlink-success model, computed from one outcome record
label:
  field: result
  positive: [success]          # label 1 when result is success; failure and error are 0
features:
  - name: domain_rate
    source: domain
    transform: target_rate     # smoothed success rate of the domain, fitted on the training split
    smoothing: 20
  - name: action
    source: action_attempted
    transform: one_hot
    categories: [blog_comment, guest_post, forum_post, directory_submission, social_bookmark, wiki_edit, profile_link, resource_page]
    unknown: column            # a new action type lights action=__unknown__
  - name: action_rate
    source: action_attempted
    transform: target_rate
    smoothing: 50
  - name: domain_authority
    source: features.domain_authority
    transform: numeric
    missing: 0
    clip: [0, 100]
  - name: outbound_links
    source: features.outbound_links
    transform: log1p
  - name: page_age_days
    source: features.page_age_days
    transform: log1p
  - name: dofollow
    source: features.dofollow
    transform: boolean
  - name: tld
    source: domain
    transform: tld
    categories: [com, org, net, io, edu, gov, info, co.uk, de]
    unknown: column
  - name: subdomain_depth
    source: domain
    transform: subdomain_depth
  - name: path_depth
    source: url
    transform: path_depth
  - name: https
    source: url
    transform: https
  - name: hour
    source: timestamp
    transform: hour
  - name: weekday
    source: timestamp
    transform: weekday
`;
}
