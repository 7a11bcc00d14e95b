// Sends one alert to every notifier, once per incident and kind: a repeat within the incident is
// suppressed, a notifier that failed last time is retried alone, and one notifier failing never
// hides what the others did. ALERT_FAILED only when every notifier tried has failed.
import { MlopsError, isMlopsError } from '../errors.js';
import type { AlertStateStore, IncidentState } from './state.js';
import type { Alert, Notifier, NotifyResult } from './types.js';

export interface SendAlertOptions {
  /** Where de-duplication state lives; without one, every call sends. */
  state?: AlertStateStore;
  now?: Date;
}

export interface AlertReport {
  incident: string;
  kind: Alert['kind'];
  /** `partial`: some notifiers failed (they are retried by the next call for this incident and kind). */
  status: 'sent' | 'partial' | 'suppressed';
  /** Why it was suppressed. */
  reason?: string;
  results: NotifyResult[];
  /** Problems with the state store: the alert went out without de-duplication. */
  warnings: string[];
}

function failed(notifier: string, e: unknown): NotifyResult {
  const error = isMlopsError(e)
    ? { code: e.code, message: e.message, hint: e.hint }
    : { code: 'ALERT_FAILED' as const, message: e instanceof Error ? e.message : String(e) };
  return { notifier, status: 'failed', error };
}

export async function sendAlert(notifiers: Notifier[], alert: Alert, opts: SendAlertOptions = {}): Promise<AlertReport> {
  if (!alert.incident) {
    throw new MlopsError('INVALID_ARGUMENT', `alert "${alert.title}" has no incident key`, {
      hint: 'Give every alert an incident key such as canary:<model>@<version>: it is what makes one incident one alert.',
    });
  }
  const now = (opts.now ?? new Date()).toISOString();
  const report: AlertReport = { incident: alert.incident, kind: alert.kind, status: 'sent', results: [], warnings: [] };
  let state = opts.state;
  let prev: IncidentState | null = null;
  if (state) {
    try {
      prev = await state.get(alert.incident);
    } catch (e) {
      // Better a repeated alert than a lost one: go on without de-duplication.
      report.warnings.push(`alert state in ${state.location} is unreadable (${(e as Error).message}); sending without de-duplication`);
      state = undefined;
    }
  }
  const suppress = (reason: string): AlertReport => ({ ...report, status: 'suppressed', reason });
  if (notifiers.length === 0) return suppress('no notifiers are configured');

  let targets = notifiers;
  const kindState = prev?.kinds[alert.kind];
  if (alert.kind === 'recovered') {
    if (state && !prev) return suppress('no open incident to recover from');
  } else if (kindState) {
    const delivered = new Set(kindState.delivered);
    targets = notifiers.filter((n) => !delivered.has(n.id));
    if (targets.length === 0) {
      const next: IncidentState = { ...prev!, kinds: { ...prev!.kinds, [alert.kind]: { ...kindState, last_at: now, count: kindState.count + 1 } } };
      await save(state, alert.incident, next, report);
      return suppress(`already alerted for incident ${alert.incident} at ${kindState.first_at} (${kindState.count + 1} runs so far)`);
    }
  }

  report.results = await Promise.all(
    targets.map(async (n) => {
      try {
        return await n.notify(alert);
      } catch (e) {
        return failed(n.id, e);
      }
    }),
  );
  const done = report.results.filter((r) => r.status !== 'failed').map((r) => r.notifier);

  if (alert.kind === 'recovered') {
    if (done.length) await save(state, alert.incident, null, report);
  } else if (done.length) {
    const base: IncidentState = prev ?? { incident: alert.incident, model: alert.model, version: alert.version, opened_at: now, kinds: {} };
    const k = base.kinds[alert.kind] ?? { first_at: now, last_at: now, count: 0, delivered: [] };
    const next: IncidentState = {
      ...base,
      kinds: { ...base.kinds, [alert.kind]: { ...k, last_at: now, count: k.count + 1, delivered: [...new Set([...k.delivered, ...done])] } },
    };
    await save(state, alert.incident, next, report);
  }

  if (done.length === 0) {
    const lines = report.results.map((r) => `  - ${r.notifier}: ${r.error?.code} ${r.error?.message}`);
    throw new MlopsError('ALERT_FAILED', `no notifier delivered the ${alert.kind} alert for ${alert.incident}:\n${lines.join('\n')}`, {
      hint: 'Fix the notifiers listed (each names its own problem); the alert is sent again on the next run.',
      data: { report },
    });
  }
  report.status = done.length < report.results.length ? 'partial' : 'sent';
  return report;
}

async function save(state: AlertStateStore | undefined, incident: string, next: IncidentState | null, report: AlertReport): Promise<void> {
  if (!state) return;
  try {
    await state.set(incident, next);
  } catch (e) {
    report.warnings.push(`cannot record the alert state in ${state.location} (${(e as Error).message}); the next run may alert again`);
  }
}
