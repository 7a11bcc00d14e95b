import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotifiers } from '../../src/alerts/create-notifiers.js';
import { sendAlert } from '../../src/alerts/send-alert.js';
import { fileAlertState, issueAlertState, memoryAlertState } from '../../src/alerts/state.js';
import type { Alert, Notifier } from '../../src/alerts/types.js';
import { MlopsError } from '../../src/errors.js';
import { GitHubForge } from '../../src/forge/github.js';
import { LocalForge } from '../../src/forge/local.js';
import { readStateMarker } from '../../src/forge/markers.js';
import { GitRepo } from '../../src/git/repo.js';
import { gitdir, tempDir } from '../helpers/gitdir.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const incident = 'canary:backlink-success@v1.3.0';
const base: Omit<Alert, 'kind' | 'title' | 'severity'> = {
  model: 'backlink-success',
  version: 'v1.3.0',
  text: 'details',
  fields: { n: 120 },
  incident,
};
const inconclusive: Alert = { ...base, kind: 'inconclusive', title: 'Canary v1.3.0 inconclusive after 24 h', severity: 'warning' };
const rollback: Alert = { ...base, kind: 'rollback', title: 'Canary v1.3.0 rolled back', severity: 'critical' };
const recovered: Alert = { ...base, kind: 'recovered', title: 'Canary v1.3.0 incident closed', severity: 'info' };

/** A notifier whose outcome each test scripts: true = delivered, an error = thrown. */
function scripted(id: string, outcomes: Array<true | MlopsError>) {
  const calls: Alert[] = [];
  const n: Notifier & { calls: Alert[] } = {
    id,
    calls,
    async notify(alert) {
      calls.push(alert);
      const o = outcomes.shift() ?? true;
      if (o !== true) throw o;
      return { notifier: id, status: 'sent' };
    },
  };
  return n;
}

const at = (h: number) => new Date(Date.UTC(2026, 10, 29, h));

describe('sendAlert de-duplication', () => {
  it('sends once per incident and kind, then again for a new kind, and ends with recovered', async () => {
    const state = fileAlertState(join(tempDir(), '.mlops', 'alerts-state.json'));
    const n = scripted('webhook', []);
    const first = await sendAlert([n], inconclusive, { state, now: at(1) });
    expect(first.status).toBe('sent');
    for (let h = 2; h <= 5; h++) {
      const r = await sendAlert([n], inconclusive, { state, now: at(h) });
      expect(r).toMatchObject({ status: 'suppressed', reason: expect.stringContaining('already alerted'), results: [] });
    }
    expect(n.calls).toHaveLength(1);
    expect((await state.get(incident))!.kinds.inconclusive).toEqual({
      first_at: at(1).toISOString(),
      last_at: at(5).toISOString(),
      count: 5,
      delivered: ['webhook'],
    });

    expect((await sendAlert([n], rollback, { state, now: at(6) })).status).toBe('sent');
    expect((await sendAlert([n], rollback, { state, now: at(7) })).status).toBe('suppressed');
    expect((await sendAlert([n], recovered, { state, now: at(8) })).status).toBe('sent');
    expect(await state.get(incident)).toBeNull();
    expect((await sendAlert([n], recovered, { state, now: at(9) })).reason).toBe('no open incident to recover from');
    // The same key later is a new incident.
    expect((await sendAlert([n], rollback, { state, now: at(10) })).status).toBe('sent');
    expect(n.calls.map((a) => a.kind)).toEqual(['inconclusive', 'rollback', 'recovered', 'rollback']);
  });

  it('keeps every result when one notifier fails, and retries only that one next time', async () => {
    const state = memoryAlertState();
    const good = scripted('summary', []);
    const flaky = scripted('webhook', [new MlopsError('WEBHOOK_TIMEOUT', 'no answer')]);
    const r1 = await sendAlert([flaky, good], rollback, { state, now: at(1) });
    expect(r1.status).toBe('partial');
    expect(r1.results).toEqual([
      { notifier: 'webhook', status: 'failed', error: { code: 'WEBHOOK_TIMEOUT', message: 'no answer', hint: undefined } },
      { notifier: 'summary', status: 'sent' },
    ]);
    const r2 = await sendAlert([flaky, good], rollback, { state, now: at(2) });
    expect(r2.status).toBe('sent');
    expect(r2.results.map((r) => r.notifier)).toEqual(['webhook']);
    expect((await sendAlert([flaky, good], rollback, { state, now: at(3) })).status).toBe('suppressed');
    expect([flaky.calls.length, good.calls.length]).toEqual([2, 1]);
  });

  it('throws ALERT_FAILED only when every notifier failed, with each one\'s error, and sends again next time', async () => {
    const state = memoryAlertState();
    const a = scripted('webhook', [new MlopsError('WEBHOOK_FAILED', 'HTTP 500')]);
    const b = scripted('github-issue', [new MlopsError('FORGE_AUTH', 'bad token')]);
    const err = await sendAlert([a, b], rollback, { state }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ALERT_FAILED' });
    expect((err as MlopsError).message).toContain('webhook: WEBHOOK_FAILED HTTP 500');
    expect((err as MlopsError).message).toContain('github-issue: FORGE_AUTH bad token');
    expect((err as MlopsError).data!.report).toMatchObject({ results: [{ status: 'failed' }, { status: 'failed' }] });
    expect(await state.get(incident)).toBeNull();
    expect((await sendAlert([a, b], rollback, { state })).status).toBe('sent');
  });

  it('sends (with a warning) rather than suppress when the state file is corrupt', async () => {
    const path = join(tempDir(), 'alerts-state.json');
    writeFileSync(path, '{ not json');
    const n = scripted('webhook', []);
    const r = await sendAlert([n], rollback, { state: fileAlertState(path) });
    expect(r.status).toBe('sent');
    expect(r.warnings[0]).toContain('unreadable');
    await expect(fileAlertState(path).get(incident)).rejects.toMatchObject({ code: 'ALERT_STATE_INVALID' });
  });

  it('sends every time without a state store, and reports when nothing is configured', async () => {
    const n = scripted('webhook', []);
    await sendAlert([n], rollback);
    await sendAlert([n], rollback);
    expect(n.calls).toHaveLength(2);
    expect(await sendAlert([], rollback)).toMatchObject({ status: 'suppressed', reason: 'no notifiers are configured' });
  });

  it('writes a state file a person can read', async () => {
    const path = join(tempDir(), 'alerts-state.json');
    await sendAlert([scripted('webhook', [])], rollback, { state: fileAlertState(path), now: at(1) });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      apiVersion: 'mlops/v1',
      kind: 'AlertState',
      incidents: {
        [incident]: {
          incident,
          model: 'backlink-success',
          version: 'v1.3.0',
          opened_at: at(1).toISOString(),
          kinds: { rollback: { first_at: at(1).toISOString(), last_at: at(1).toISOString(), count: 1, delivered: ['webhook'] } },
        },
      },
    });
  });
});

describe('alerts through GitHub (contract server) with the state in the incident issue', () => {
  let server: GitHubServer;
  let receiver: WebhookReceiver;
  afterEach(async () => {
    expect(server.violations).toEqual([]);
    await server.close();
    await receiver.close();
  });

  it('opens one issue per incident, comments on a new kind, closes on recovery; the webhook fires once per kind', async () => {
    server = await startGitHubServer();
    receiver = await startWebhookReceiver();
    // Each hourly run builds everything afresh, as a CI runner does: no state survives but the issue.
    const run = async (alert: Alert, hour: number) => {
      const forge = new GitHubForge({ repository: `${server.owner}/${server.repo}`, token: server.token, apiUrl: server.url, retryBaseMs: 1, writeSpacingMs: 0 });
      const notifiers = createNotifiers([{ type: 'github-issue' }, { type: 'webhook', url_env: 'HOOK' }], {
        forge,
        env: { HOOK: receiver.url },
        webhook: { backoffMs: 1 },
      });
      return sendAlert(notifiers, alert, { state: issueAlertState(forge), now: at(hour) });
    };
    expect((await run(inconclusive, 1)).status).toBe('sent');
    expect((await run(inconclusive, 2)).status).toBe('suppressed');
    expect((await run(inconclusive, 3)).status).toBe('suppressed');
    expect(server.issues()).toHaveLength(1);
    const issue = server.issues()[0]!;
    expect(issue.comments).toHaveLength(0);
    expect(readStateMarker(issue.body)).toMatchObject({ kinds: { inconclusive: { count: 3, delivered: ['github-issue', 'webhook'] } } });

    expect((await run(rollback, 4)).status).toBe('sent');
    expect((await run(rollback, 5)).status).toBe('suppressed');
    expect(issue.comments).toHaveLength(1);
    expect(issue.comments[0]!.body).toContain('Canary v1.3.0 rolled back');

    const closing = await run(recovered, 6);
    expect(closing.results.map((r) => [r.notifier, r.status])).toEqual([['github-issue', 'sent'], ['webhook', 'sent']]);
    expect(issue.state).toBe('closed');
    expect((await run(recovered, 7)).status).toBe('suppressed');
    expect(receiver.deliveries.map((d) => d.headers['x-mlops-event'])).toEqual(['inconclusive', 'rollback', 'recovered']);
    expect(server.issues()).toHaveLength(1);
  });

  it('still alerts through the webhook when GitHub rejects the token', async () => {
    server = await startGitHubServer();
    receiver = await startWebhookReceiver();
    const forge = new GitHubForge({ repository: `${server.owner}/${server.repo}`, token: 'wrong-token-value', apiUrl: server.url, retries: 0 });
    const notifiers = createNotifiers([{ type: 'github-issue' }, { type: 'webhook', url: receiver.url }], { forge, webhook: { backoffMs: 1 } });
    const r = await sendAlert(notifiers, rollback);
    expect(r.status).toBe('partial');
    expect(r.results.map((x) => [x.notifier, x.status, x.error?.code])).toEqual([['github-issue', 'failed', 'FORGE_AUTH'], ['webhook', 'sent', undefined]]);
    expect(JSON.stringify(r)).not.toContain('wrong-token-value');
  });
});

describe('alerts on plain git', () => {
  it('keeps incident issues in the local forge', async () => {
    const repo = gitdir({ 'a.txt': 'a' });
    const forge = new LocalForge({ repo: await GitRepo.open(repo.dir) });
    const state = fileAlertState(join(repo.dir, '.mlops', 'alerts-state.json'));
    const notifiers = createNotifiers([{ type: 'github-issue', labels: ['ops'] }], { forge });
    await sendAlert(notifiers, rollback, { state });
    await sendAlert(notifiers, rollback, { state });
    await sendAlert(notifiers, recovered, { state });
    const [issue] = await forge.issues();
    expect(issue).toMatchObject({ key: incident, title: 'Canary v1.3.0 rolled back', labels: ['ops'], state: 'closed' });
    expect(issue!.comments).toHaveLength(1);
    expect(await forge.issues()).toHaveLength(1);
  });
});

describe('createNotifiers', () => {
  it('numbers repeated types and keeps the others working when a webhook URL variable is missing', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const notifiers = createNotifiers([{ type: 'webhook', url_env: 'NOPE' }, { type: 'summary' }, { type: 'webhook', url_env: 'NOPE2', secret_env: 'S' }], { env: {}, stdout: out });
    expect(notifiers.map((n) => n.id)).toEqual(['webhook', 'summary', 'webhook#2']);
    const r = await sendAlert(notifiers, rollback);
    expect(r.status).toBe('partial');
    expect(r.results[0]).toMatchObject({ status: 'failed', error: { code: 'CONFIG_INVALID', message: expect.stringContaining('NOPE is not set') } });
    expect(r.results[1]).toMatchObject({ status: 'sent' });
    expect(printed).toContain('### 🔴 Rollback: Canary v1.3.0 rolled back');
  });

  it('fails a webhook whose URL is not http(s), without quoting it', async () => {
    const [n] = createNotifiers([{ type: 'webhook', url_env: 'HOOK' }], { env: { HOOK: 'hooks.example.test/T0/secret-path' } });
    const err = await n!.notify(rollback).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as MlopsError).message).not.toContain('secret-path');
  });

  it('refuses a webhook with neither url nor url_env', () => {
    expect(() => createNotifiers([{ type: 'webhook' }])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('fails a signed webhook whose secret variable is unset instead of sending unsigned', async () => {
    const [n] = createNotifiers([{ type: 'webhook', url: 'http://127.0.0.1:9/hook', secret_env: 'HOOK_SECRET' }], { env: {} });
    await expect(n!.notify(rollback)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('HOOK_SECRET') });
  });

  it('appends to $GITHUB_STEP_SUMMARY when it is set', async () => {
    const file = join(tempDir(), 'step-summary.md');
    writeFileSync(file, '## Canary check\n\n');
    const notifiers = createNotifiers([{ type: 'summary' }], { env: { GITHUB_STEP_SUMMARY: file }, now: () => at(3) });
    await sendAlert(notifiers, inconclusive);
    await sendAlert(notifiers, rollback);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('## Canary check\n\n### 🟠 Inconclusive canary: Canary v1.3.0 inconclusive after 24 h')).toBe(true);
    expect(text).toContain('### 🔴 Rollback: Canary v1.3.0 rolled back');
    expect(text).toContain('| n | 120 |');
    expect(text).toContain(`incident \`${incident}\``);
  });

  it('fails a github-issue notifier without a forge on its own', async () => {
    const [n] = createNotifiers([{ type: 'github-issue' }]);
    await expect(n!.notify(rollback)).rejects.toMatchObject({ code: 'FORGE_NOT_FOUND' });
  });
});
