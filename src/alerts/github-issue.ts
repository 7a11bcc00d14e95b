// Incident issues through the forge: the first alert of an incident opens an issue, later ones
// comment on it, and `recovered` closes it. Works with GitHub and with the local forge alike.
import type { Forge } from '../forge/types.js';
import { renderMarkdown } from './render.js';
import type { Alert, Notifier, NotifyResult } from './types.js';

export const DEFAULT_ISSUE_LABELS = ['mlops-alert'];

export function createIssueNotifier(options: { forge: Forge; labels?: string[]; id?: string; now?: () => Date }): Notifier {
  const id = options.id ?? 'github-issue';
  const labels = options.labels ?? DEFAULT_ISSUE_LABELS;
  const now = options.now ?? (() => new Date());
  return {
    id,
    async notify(alert: Alert): Promise<NotifyResult> {
      const body = renderMarkdown(alert, { at: now() });
      if (alert.kind === 'recovered') {
        const closed = await options.forge.closeIssue({ key: alert.incident, comment: body });
        return closed
          ? { notifier: id, status: 'sent', detail: `closed #${closed.number} ${closed.url}` }
          : { notifier: id, status: 'skipped', detail: 'no open issue for this incident' };
      }
      const r = await options.forge.ensureIssue({ key: alert.incident, title: alert.title, body, labels });
      return { notifier: id, status: 'sent', detail: `${r.action} #${r.number} ${r.url}` };
    },
  };
}
