// mlops.config.json: the original retrain/canary/rollback sections kept as they were, plus the
// sections this tool adds. Validated with its JSON Schema (unknown keys are errors that name the
// key); every missing value takes the default below.
import { readFile } from 'node:fs/promises';
import { join, resolve, extname } from 'node:path';
import { statSync } from 'node:fs';
import { MlopsError } from '../errors.js';
import type { ParseCache } from '../util/parse-cache.js';

export interface Thresholds {
  min_success_rate: number;
  max_error_rate: number;
  max_response_time_ms: number;
}

export type AlertConfig =
  | { type: 'webhook'; url_env?: string; url?: string; secret_env?: string; timeout_ms?: number; retries?: number }
  | { type: 'github-issue'; labels?: string[] }
  | { type: 'summary' };

export interface MlopsConfig {
  model: string;
  dataset: string;
  schema_version: string;
  train: {
    trainer: 'gbdt' | 'logistic' | 'external';
    params: Record<string, unknown>;
    seed: number;
    external?: { command: string; timeout_seconds: number };
  };
  retrain: {
    schedule: 'weekly' | 'daily' | 'manual';
    day: string;
    time: string;
    min_new_samples: number;
    merge_strategy: 'append' | 'dedupe';
    validation_threshold: number;
    max_regression: number;
  };
  canary: {
    enabled: boolean;
    percentage: number;
    duration_hours: number;
    method: 'sprt' | 'threshold';
    alpha: number;
    beta: number;
    min_samples: number;
    latency_quantile: number;
    steps: number[];
    auto_promote: boolean;
    source: { type: 'outcomes' | 'prometheus'; url?: string; url_env?: string };
    thresholds: Thresholds;
  };
  rollback: {
    auto_rollback: boolean;
    mode: 'push' | 'pr';
    thresholds: Thresholds;
  };
  forge: {
    type: 'github' | 'local';
    base: string;
    remote: string;
    repository?: string;
    api_url?: string;
    labels: string[];
  };
  alerts: AlertConfig[];
}

export const CONFIG_FILES = ['mlops.config.json', 'mlops.config.yaml', 'mlops.config.yml'];

export function defaultConfig(): MlopsConfig {
  return {
    model: 'backlink-success',
    dataset: 'backlink-outcomes',
    schema_version: 'schema_v1.0',
    train: { trainer: 'gbdt', params: {}, seed: 42 },
    retrain: {
      schedule: 'weekly',
      day: 'sunday',
      time: '02:00',
      min_new_samples: 100,
      merge_strategy: 'append',
      validation_threshold: 0.8,
      max_regression: 0.01,
    },
    canary: {
      enabled: true,
      percentage: 0.1,
      duration_hours: 24,
      method: 'sprt',
      alpha: 0.01,
      beta: 0.05,
      min_samples: 50,
      latency_quantile: 0.95,
      steps: [0.1],
      auto_promote: false,
      source: { type: 'outcomes' },
      thresholds: { min_success_rate: 0.8, max_error_rate: 0.05, max_response_time_ms: 100 },
    },
    rollback: {
      auto_rollback: true,
      mode: 'push',
      thresholds: { min_success_rate: 0.75, max_error_rate: 0.1, max_response_time_ms: 200 },
    },
    forge: { type: 'local', base: 'main', remote: 'origin', labels: ['mlops', 'retrain'] },
    alerts: [{ type: 'summary' }],
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace those of `base`. */
function merge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge((base as Record<string, unknown>)[k], v) : v;
  return out as T;
}

/** Validates a raw configuration value and fills the defaults. */
export async function resolveConfig(raw: unknown, file = 'mlops.config.json'): Promise<MlopsConfig> {
  // Loaded on demand: a cached configuration needs neither ajv nor the schema.
  const { throwProblems, validateValue } = await import('../util/validate.js');
  throwProblems('CONFIG_INVALID', file, validateValue('config', raw ?? {}, { file, code: 'CONFIG_INVALID' }));
  const config = merge(defaultConfig(), raw ?? {});
  // The promotion bounds must be stricter than the rollback bounds, or SPEC 6.5's test is meaningless.
  const c = config.canary.thresholds;
  const r = config.rollback.thresholds;
  const bad: string[] = [];
  if (!(c.min_success_rate > r.min_success_rate)) bad.push('canary.thresholds.min_success_rate must be above rollback.thresholds.min_success_rate');
  if (!(c.max_error_rate < r.max_error_rate)) bad.push('canary.thresholds.max_error_rate must be below rollback.thresholds.max_error_rate');
  if (!(c.max_response_time_ms <= r.max_response_time_ms)) bad.push('canary.thresholds.max_response_time_ms must not exceed rollback.thresholds.max_response_time_ms');
  if (bad.length) {
    throw new MlopsError('CONFIG_INVALID', `${file} is not valid:\n${bad.map((b) => `  - ${b}`).join('\n')}`, {
      hint: 'Promotion thresholds describe a good canary, rollback thresholds a bad one: keep the good side stricter.',
      data: { file, problems: bad },
    });
  }
  return config;
}

/**
 * Loads the configuration: `file` when given (relative to `dir`), else the first of
 * CONFIG_FILES in `dir`, else the defaults. Returns the path it read (null for defaults).
 */
export async function loadConfig(args: { dir: string; file?: string; cache?: ParseCache }): Promise<{ config: MlopsConfig; path: string | null }> {
  const candidates = args.file ? [resolve(args.dir, args.file)] : CONFIG_FILES.map((f) => join(args.dir, f));
  for (const path of candidates) {
    let text: string;
    const st = args.cache ? statOrNull(path) : null;
    const hit = st ? args.cache!.get<MlopsConfig>(path, st) : undefined;
    if (hit) return { config: hit, path };
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        if (args.file) {
          throw new MlopsError('CONFIG_NOT_FOUND', `configuration file ${args.file} not found`, {
            hint: 'Pass an existing file to --config, or run `mlops init` to write mlops.config.json.',
          });
        }
        continue;
      }
      throw e;
    }
    const config = await resolveConfig(await parseConfigText(text, path), path);
    if (st) {
      args.cache!.set(path, st, config);
      args.cache!.save();
    }
    return { config, path };
  }
  return { config: defaultConfig(), path: null };
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

async function parseConfigText(text: string, path: string): Promise<unknown> {
  if (extname(path) === '.json') {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new MlopsError('CONFIG_PARSE_ERROR', `${path}: ${(cause as Error).message}`, { cause, hint: 'Fix the JSON syntax.' });
    }
  }
  const { parseYaml } = await import('../util/yaml.js');
  try {
    return parseYaml(text, path).value;
  } catch (cause) {
    throw new MlopsError('CONFIG_PARSE_ERROR', (cause as Error).message, { cause, hint: 'Fix the YAML syntax.' });
  }
}
