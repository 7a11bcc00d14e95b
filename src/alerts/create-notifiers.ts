// Builds the notifiers named by the `alerts` section of mlops.config.json. A notifier that
// cannot work (a webhook URL variable not set, no forge) still exists and fails on its own when
// used, so one broken notifier never silences the others.
import { MlopsError } from '../errors.js';
import type { AlertConfig } from '../config/config.js';
import type { Forge } from '../forge/types.js';
import { createIssueNotifier } from './github-issue.js';
import { createSummaryNotifier } from './summary.js';
import type { Notifier } from './types.js';
import type { TextSink } from './summary.js';
import { createWebhookNotifier, type WebhookNotifierOptions } from './webhook.js';

export interface CreateNotifiersOptions {
  env?: NodeJS.ProcessEnv;
  /** Needed by `github-issue` alerts. */
  forge?: Forge;
  /** Where the summary goes outside GitHub Actions. Default process.stdout. */
  stdout?: TextSink;
  now?: () => Date;
  /** Timing of webhook deliveries (backoff, caps); the config's timeout_ms and retries win. */
  webhook?: Partial<Pick<WebhookNotifierOptions, 'timeoutMs' | 'retries' | 'backoffMs' | 'maxBackoffMs'>>;
}

function broken(id: string, error: MlopsError): Notifier {
  return {
    id,
    notify: () => Promise.reject(error),
  };
}

/**
 * One notifier per entry, with ids `webhook`, `webhook#2`, `github-issue`, `summary`...
 * (numbered in config order, so the alert state recognises them on the next run).
 * Throws CONFIG_INVALID for a webhook with neither `url` nor `url_env`.
 */
export function createNotifiers(configs: AlertConfig[], opts: CreateNotifiersOptions = {}): Notifier[] {
  const env = opts.env ?? process.env;
  const seen = new Map<string, number>();
  return configs.map((cfg) => {
    const n = (seen.get(cfg.type) ?? 0) + 1;
    seen.set(cfg.type, n);
    const id = n === 1 ? cfg.type : `${cfg.type}#${n}`;
    switch (cfg.type) {
      case 'webhook': {
        if (!cfg.url && !cfg.url_env) {
          throw new MlopsError('CONFIG_INVALID', `alerts: the webhook "${id}" has neither url nor url_env`, {
            hint: 'Add "url_env": "MLOPS_WEBHOOK_URL" (keep webhook URLs in secrets, not in the config).',
          });
        }
        const url = cfg.url || (cfg.url_env ? env[cfg.url_env] : undefined);
        if (!url) {
          return broken(id, new MlopsError('CONFIG_INVALID', `alerts: ${cfg.url_env} is not set, so the webhook "${id}" has no URL`, {
            hint: `Set ${cfg.url_env} (in a workflow: env: ${cfg.url_env}: \${{ secrets.${cfg.url_env} }}).`,
          }));
        }
        const secret = cfg.secret_env ? env[cfg.secret_env] : undefined;
        if (cfg.secret_env && !secret) {
          // Unsigned deliveries to a receiver that checks signatures would be dropped silently.
          return broken(id, new MlopsError('CONFIG_INVALID', `alerts: ${cfg.secret_env} is not set, so the webhook "${id}" cannot sign its alerts`, {
            hint: `Set ${cfg.secret_env}, or remove secret_env from the webhook's config.`,
          }));
        }
        try {
          return createWebhookNotifier({
            ...opts.webhook,
            id,
            url,
            secret,
            ...(cfg.timeout_ms !== undefined ? { timeoutMs: cfg.timeout_ms } : {}),
            ...(cfg.retries !== undefined ? { retries: cfg.retries } : {}),
          });
        } catch (e) {
          return broken(id, e as MlopsError);
        }
      }
      case 'github-issue':
        if (!opts.forge) {
          return broken(id, new MlopsError('FORGE_NOT_FOUND', 'alerts: github-issue alerts need a forge, and none is available', {
            hint: 'Check the forge section of mlops.config.json (and the token for GitHub).',
          }));
        }
        return createIssueNotifier({ forge: opts.forge, labels: cfg.labels, id, now: opts.now });
      case 'summary':
        return createSummaryNotifier({ file: env.GITHUB_STEP_SUMMARY || undefined, stream: opts.stdout, id, now: opts.now });
    }
  });
}
