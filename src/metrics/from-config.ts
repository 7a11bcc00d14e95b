// Picks the metric source canary.source names in mlops.config.json.
import { MlopsError } from '../errors.js';
import { outcomeStoreSource, type OutcomeSourceWarning } from './outcome-source.js';
import { prometheusSource } from './prometheus-source.js';
import type { MetricSource } from './source.js';

export interface SourceConfig {
  type: 'outcomes' | 'prometheus';
  url?: string;
  url_env?: string;
}

export interface MetricSourceFromConfigOptions {
  source: SourceConfig;
  /** The registry directory (for the outcome store). */
  dir: string;
  /** Where url_env is looked up (default: the process environment). */
  env?: Record<string, string | undefined>;
  onWarning?: (w: OutcomeSourceWarning) => void;
  timeoutMs?: number;
}

export function metricSourceFromConfig({ source, dir, env = process.env, onWarning, timeoutMs }: MetricSourceFromConfigOptions): MetricSource {
  if (source.type === 'outcomes') return outcomeStoreSource({ dir, onWarning });
  if (source.type === 'prometheus') {
    const url = source.url ?? (source.url_env ? env[source.url_env] : undefined);
    if (!url) {
      throw new MlopsError('CONFIG_INVALID', `canary.source is prometheus but has no URL${source.url_env ? `: the variable ${source.url_env} is not set` : ''}`, {
        hint: 'Set canary.source.url (e.g. http://prometheus:9090) or canary.source.url_env to the name of a variable that holds it.',
      });
    }
    if (!/^https?:\/\//.test(url)) {
      throw new MlopsError('CONFIG_INVALID', `canary.source URL must start with http:// or https://, got ${JSON.stringify(url)}`, { hint: 'Use the Prometheus base URL, e.g. http://prometheus:9090' });
    }
    return prometheusSource({ url, timeoutMs });
  }
  throw new MlopsError('CONFIG_INVALID', `unknown canary.source.type ${JSON.stringify((source as { type: unknown }).type)}`, { hint: 'Use "outcomes" or "prometheus".' });
}
