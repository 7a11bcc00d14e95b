import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookNotifier, signWebhookBody, verifyWebhookSignature } from '../../src/alerts/webhook.js';
import { renderSlackPayload } from '../../src/alerts/render.js';
import type { Alert } from '../../src/alerts/types.js';
import { MlopsError } from '../../src/errors.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const alert: Alert = {
  kind: 'rollback',
  model: 'backlink-success',
  version: 'v1.3.0',
  title: 'Canary backlink-success@v1.3.0 rolled back',
  text: 'The error rate crossed the rollback bound; production stays on v1.2.0.',
  fields: { n: 412, errors: 49, 'error rate': '11.9%', Λ: 4.83 },
  incident: 'canary:backlink-success@v1.3.0',
  severity: 'critical',
  url: 'https://github.test/acme/models/commit/abc123',
};

let receiver: WebhookReceiver;
beforeEach(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await receiver.close();
});

const fast = { backoffMs: 1, timeoutMs: 2000 };

describe('webhook notifier', () => {
  it('posts Slack-compatible JSON signed with HMAC-SHA256 over the raw body', async () => {
    const secret = 'whsec-0123456789abcdef';
    const r = await createWebhookNotifier({ ...fast, url: receiver.url, secret }).notify(alert);
    expect(r).toMatchObject({ notifier: 'webhook', status: 'sent' });
    const [d] = receiver.deliveries;
    expect(d!.headers['content-type']).toBe('application/json');
    expect(d!.headers['x-mlops-event']).toBe('rollback');
    // The receiver's own check, written independently of signWebhookBody.
    const expected = 'sha256=' + createHmac('sha256', secret).update(d!.raw).digest('hex');
    expect(d!.headers['x-mlops-signature']).toBe(expected);
    expect(verifyWebhookSignature(secret, d!.raw, d!.headers['x-mlops-signature'])).toBe(true);
    expect(verifyWebhookSignature('other-secret', d!.raw, d!.headers['x-mlops-signature'])).toBe(false);
    expect(verifyWebhookSignature(secret, Buffer.concat([d!.raw, Buffer.from(' ')]), d!.headers['x-mlops-signature'])).toBe(false);
    expect(d!.json.text).toContain(alert.title);
    expect(d!.json.blocks).toEqual(renderSlackPayload(alert).blocks);
    expect(d!.json.mlops).toMatchObject({ kind: 'rollback', incident: alert.incident, fields: alert.fields });
  });

  it('sends no signature header without a secret', async () => {
    await createWebhookNotifier({ ...fast, url: receiver.url }).notify(alert);
    expect(receiver.deliveries[0]!.headers['x-mlops-signature']).toBeUndefined();
  });

  it('retries 5xx with backoff and succeeds, under one delivery id', async () => {
    receiver.script({ status: 500 }, { status: 503 });
    const r = await createWebhookNotifier({ ...fast, url: receiver.url, retries: 3 }).notify(alert);
    expect(r.detail).toContain('attempt 3');
    expect(receiver.deliveries).toHaveLength(3);
    expect(new Set(receiver.deliveries.map((d) => d.headers['x-mlops-delivery'])).size).toBe(1);
    expect(new Set(receiver.deliveries.map((d) => d.raw.toString())).size).toBe(1);
  });

  it('gives up with WEBHOOK_FAILED after its retries, without printing the URL', async () => {
    receiver.script({ status: 500, body: 'boom' }, { status: 500, body: 'boom' }, { status: 500, body: 'boom' });
    const err = await createWebhookNotifier({ ...fast, url: receiver.url, retries: 2 }).notify(alert).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEBHOOK_FAILED', message: expect.stringContaining('HTTP 500: boom (3 attempts)') });
    expect(receiver.deliveries).toHaveLength(3);
    expect(JSON.stringify((err as MlopsError).toJSON())).not.toContain('/services/T000');
  });

  it('does not retry a 4xx refusal', async () => {
    receiver.script({ status: 404, body: 'no_service' });
    await expect(createWebhookNotifier({ ...fast, url: receiver.url, retries: 3 }).notify(alert)).rejects.toMatchObject({
      code: 'WEBHOOK_FAILED',
      message: expect.stringContaining('HTTP 404: no_service'),
    });
    expect(receiver.deliveries).toHaveLength(1);
  });

  it('times out on a hanging endpoint, retries, and reports WEBHOOK_TIMEOUT', async () => {
    receiver.script('hang', 'hang');
    const err = await createWebhookNotifier({ ...fast, url: receiver.url, timeoutMs: 50, retries: 1 }).notify(alert).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEBHOOK_TIMEOUT', message: expect.stringContaining('within 50 ms (2 attempts)') });
    expect(receiver.deliveries).toHaveLength(2);
  });

  it('recovers when only the first attempt hangs', async () => {
    receiver.script('hang');
    // Generous deadline: the second attempt must answer in time even on a loaded machine.
    const r = await createWebhookNotifier({ ...fast, url: receiver.url, timeoutMs: 400, retries: 1 }).notify(alert);
    expect(r.status).toBe('sent');
    expect(receiver.deliveries).toHaveLength(2);
  });

  it('honours Retry-After on 429 up to its cap', async () => {
    receiver.script({ status: 429, headers: { 'retry-after': '3600' } });
    const started = Date.now();
    const r = await createWebhookNotifier({ ...fast, url: receiver.url, retries: 1, maxBackoffMs: 20 }).notify(alert);
    expect(r.status).toBe('sent');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(receiver.deliveries).toHaveLength(2);
  });

  it('reports an unreachable endpoint as WEBHOOK_FAILED', async () => {
    const url = receiver.url;
    await receiver.close();
    await expect(createWebhookNotifier({ ...fast, url, retries: 1 }).notify(alert)).rejects.toMatchObject({ code: 'WEBHOOK_FAILED' });
    receiver = await startWebhookReceiver();
  });
});

describe('Slack payload', () => {
  it('keeps within Slack block limits', () => {
    const fields = Object.fromEntries(Array.from({ length: 23 }, (_, i) => [`f${i}`, i]));
    const p = renderSlackPayload({ ...alert, title: 'x'.repeat(400), fields }) as { blocks: Array<{ type: string; text?: { text: string }; fields?: unknown[] }> };
    expect(p.blocks[0]!.text!.text.length).toBeLessThanOrEqual(150);
    expect(p.blocks.filter((b) => b.fields).map((b) => b.fields!.length)).toEqual([10, 10, 3]);
  });

  it('signs exactly what it sends', () => {
    expect(signWebhookBody('k', '{"a":1}')).toBe('sha256=' + createHmac('sha256', 'k').update('{"a":1}').digest('hex'));
  });
});
