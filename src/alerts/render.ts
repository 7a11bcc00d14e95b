// How an alert reads: Markdown for issues and job summaries, Slack's {text, blocks} for webhooks.
// Pure functions, so every notifier says the same thing.
import type { Alert, AlertKind } from './types.js';

const KIND_LABEL: Record<AlertKind, string> = {
  rollback: 'Rollback',
  promotion: 'Promotion',
  inconclusive: 'Inconclusive canary',
  'retrain-failed': 'Retrain failed',
  'source-failed': 'Metric source failing',
  recovered: 'Recovered',
};

export function alertIcon(alert: Alert): string {
  if (alert.kind === 'recovered') return '✅';
  return alert.severity === 'critical' ? '🔴' : alert.severity === 'warning' ? '🟠' : '🟢';
}

export function subject(alert: Alert): string {
  return `${alert.model}${alert.version ? `@${alert.version}` : ''}`;
}

function cell(v: string | number): string {
  return String(v).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Markdown for an issue, a comment or a job summary. */
export function renderMarkdown(alert: Alert, opts: { at?: Date } = {}): string {
  const lines = [`### ${alertIcon(alert)} ${KIND_LABEL[alert.kind]}: ${alert.title}`, '', alert.text.trim()];
  const fields = Object.entries(alert.fields);
  if (fields.length) {
    lines.push('', '| | |', '|---|---|', ...fields.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`));
  }
  if (alert.url) lines.push('', `[Details](${alert.url})`);
  const meta = [`model \`${subject(alert)}\``, `incident \`${alert.incident}\``, `severity ${alert.severity}`];
  if (opts.at) meta.push(opts.at.toISOString());
  lines.push('', `<sub>${meta.join(' · ')}</sub>`);
  return lines.join('\n') + '\n';
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Slack incoming-webhook JSON: `text` is the notification fallback, `blocks` the message.
 * Limits are Slack's (header 150 chars, section 3000, 10 fields of 2000). The same data also
 * travels under `mlops` for receivers that are not Slack.
 */
export function renderSlackPayload(alert: Alert): Record<string, unknown> {
  const header = clip(`${alertIcon(alert)} ${alert.title}`, 150);
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(alert.text.trim() || alert.title, 3000) } },
  ];
  const fields = Object.entries(alert.fields);
  for (let i = 0; i < fields.length; i += 10) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + 10).map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${k}*\n${v}`, 2000) })),
    });
  }
  const context = [`${KIND_LABEL[alert.kind]} · \`${subject(alert)}\` · incident \`${alert.incident}\` · ${alert.severity}`];
  if (alert.url) context.push(`<${alert.url}|details>`);
  blocks.push({ type: 'context', elements: context.map((text) => ({ type: 'mrkdwn', text })) });
  return {
    text: `${header} (${KIND_LABEL[alert.kind]}, ${subject(alert)})`,
    blocks,
    mlops: {
      kind: alert.kind,
      model: alert.model,
      version: alert.version ?? null,
      incident: alert.incident,
      severity: alert.severity,
      title: alert.title,
      fields: alert.fields,
      url: alert.url ?? null,
    },
  };
}
