// Alerts: notifiers (webhook, incident issue, job summary), their de-duplication, and rendering.
export type { Alert, AlertKind, AlertSeverity, Notifier, NotifyResult } from './types.js';
export { renderMarkdown, renderSlackPayload } from './render.js';
export { createWebhookNotifier, signWebhookBody, verifyWebhookSignature, SIGNATURE_HEADER, type WebhookNotifierOptions } from './webhook.js';
export { createIssueNotifier, DEFAULT_ISSUE_LABELS } from './github-issue.js';
export { createSummaryNotifier } from './summary.js';
export { fileAlertState, issueAlertState, memoryAlertState, type AlertStateStore, type IncidentState, type IncidentKindState } from './state.js';
export { sendAlert, type AlertReport, type SendAlertOptions } from './send-alert.js';
export { createNotifiers, type CreateNotifiersOptions } from './create-notifiers.js';
