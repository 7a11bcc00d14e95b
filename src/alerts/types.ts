// What an alert is and what a notifier promises. An alert belongs to an incident (its dedupe
// key): the canary of one version going bad is one incident however many hourly runs see it.
import type { ErrorCode } from '../errors.js';

export type AlertKind = 'rollback' | 'promotion' | 'inconclusive' | 'retrain-failed' | 'source-failed' | 'recovered';

export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface Alert {
  kind: AlertKind;
  model: string;
  version?: string;
  /** One line, e.g. "Canary backlink-success@v1.3.0 rolled back". */
  title: string;
  /** A few sentences of Markdown: what happened and what was done. */
  text: string;
  /** Figures shown as a table (n, error rate, Λ...). Order is kept. */
  fields: Record<string, string | number>;
  /** Dedupe key, e.g. `canary:backlink-success@v1.3.0`. */
  incident: string;
  severity: AlertSeverity;
  /** A link to act on: the PR, the revert commit, the workflow run. */
  url?: string;
}

export interface NotifyResult {
  /** The notifier's id (`webhook`, `webhook#2`, `github-issue`, `summary`). */
  notifier: string;
  /** `skipped`: nothing to do for this notifier (e.g. no open issue to close). */
  status: 'sent' | 'skipped' | 'failed';
  detail?: string;
  error?: { code: ErrorCode; message: string; hint?: string };
}

export interface Notifier {
  /** Stable across runs (derived from the config order): the alert state remembers ids. */
  readonly id: string;
  /** Resolves with a `sent` or `skipped` result; a failure is thrown as an MlopsError. */
  notify(alert: Alert): Promise<NotifyResult>;
}
