// Webhook notifier: Slack-compatible JSON POSTed to a URL, optionally signed with HMAC-SHA256,
// each attempt bounded by a timeout, retried with exponential backoff on 5xx, 408, 429,
// network errors and timeouts. Webhook URLs are credentials (Slack's carry the token in the
// path), so messages show the origin only.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { MlopsError } from '../errors.js';
import { redact } from '../forge/redact.js';
import { renderSlackPayload } from './render.js';
import type { Alert, Notifier, NotifyResult } from './types.js';

export const SIGNATURE_HEADER = 'x-mlops-signature';

export interface WebhookNotifierOptions {
  id?: string;
  url: string;
  /** HMAC-SHA256 key: adds `x-mlops-signature: sha256=<hex>` over the raw body. */
  secret?: string;
  /** Per attempt, until the whole answer is read. Default 5000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** First backoff; it doubles each retry. Default 500 ms. */
  backoffMs?: number;
  /** Cap of one backoff, Retry-After included. Default 30 s. */
  maxBackoffMs?: number;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, body): what receivers recompute over the raw bytes. */
export function signWebhookBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a received signature header. */
export function verifyWebhookSignature(secret: string, body: string | Uint8Array, header: string | undefined | null): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const got = Buffer.from(header);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** `https://hooks.slack.com/…`: enough to tell which endpoint, nothing that grants access. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}

type Attempt = { ok: true; status: number } | { ok: false; retry: boolean; reason: string; timeout: boolean; retryAfterMs?: number };

export function createWebhookNotifier(options: WebhookNotifierOptions): Notifier {
  const id = options.id ?? 'webhook';
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let protocol = '';
  try {
    protocol = new URL(options.url).protocol;
  } catch {
    // reported below without quoting the URL, which is a credential
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new MlopsError('CONFIG_INVALID', `alerts: the webhook "${id}" URL is not an http(s) URL`, {
      hint: 'Set the full endpoint, e.g. https://hooks.slack.com/services/..., in the variable named by url_env.',
    });
  }
  const where = describeUrl(options.url);
  const secrets = [options.url, options.secret, safePath(options.url)];

  async function attempt(body: string, headers: Record<string, string>): Promise<Attempt> {
    try {
      const res = await fetch(options.url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      const text = await res.text();
      if (res.ok) return { ok: true, status: res.status };
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      const after = Number(res.headers.get('retry-after'));
      return {
        ok: false,
        retry,
        timeout: false,
        reason: `HTTP ${res.status}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''}`,
        retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
      };
    } catch (e) {
      const err = e as Error & { cause?: { message?: string } };
      const timeout = err.name === 'TimeoutError' || err.name === 'AbortError';
      return { ok: false, retry: true, timeout, reason: timeout ? `no answer within ${timeoutMs} ms` : err.cause?.message ?? err.message };
    }
  }

  return {
    id,
    async notify(alert: Alert): Promise<NotifyResult> {
      const body = JSON.stringify(renderSlackPayload(alert));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'mlops-gitops',
        'x-mlops-event': alert.kind,
        // One id for all attempts of this delivery, so a receiver can drop a retried duplicate.
        'x-mlops-delivery': randomUUID(),
      };
      if (options.secret) headers[SIGNATURE_HEADER] = signWebhookBody(options.secret, body);
      let failure: Extract<Attempt, { ok: false }> = { ok: false, retry: true, timeout: false, reason: 'not attempted' };
      for (let i = 0; i <= retries; i++) {
        if (i > 0) {
          const wait = Math.min(maxBackoffMs, Math.max(backoffMs * 2 ** (i - 1), failure.retryAfterMs ?? 0));
          await new Promise((r) => setTimeout(r, wait));
        }
        const result = await attempt(body, headers);
        if (result.ok) return { notifier: id, status: 'sent', detail: `${where} answered HTTP ${result.status} (attempt ${i + 1})` };
        failure = result;
        if (!failure.retry) break;
      }
      const failed = failure;
      const tries = `${retries + 1} attempt${retries ? 's' : ''}`;
      if (failed.timeout) {
        throw new MlopsError('WEBHOOK_TIMEOUT', redact(`alert webhook ${where} did not answer within ${timeoutMs} ms (${tries})`, secrets), {
          hint: 'Check that the webhook endpoint is up, or raise timeout_ms in the alerts config.',
        });
      }
      throw new MlopsError('WEBHOOK_FAILED', redact(`alert webhook ${where} failed: ${failed.reason}${failed.retry ? ` (${tries})` : ''}`, secrets), {
        hint: failed.retry
          ? 'The endpoint kept failing; the alert is retried on the next run.'
          : 'The endpoint refused the alert: check the webhook URL (url or url_env) and its secret.',
      });
    },
  };
}

/** The URL's path alone, redacted too: an error text may quote it without the host. */
function safePath(url: string): string | undefined {
  try {
    const p = new URL(url).pathname;
    return p.length > 8 ? p : undefined;
  } catch {
    return undefined;
  }
}
