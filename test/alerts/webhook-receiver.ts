// A webhook endpoint on 127.0.0.1 for the alert tests: records every delivery (raw body and
// headers) and answers from a script of responses, hanging when told to.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Delivery {
  raw: Buffer;
  json: Record<string, unknown>;
  headers: Record<string, string>;
}

export interface WebhookReceiver {
  url: string;
  deliveries: Delivery[];
  /** Replies for the next requests, in order; afterwards every request gets 200. */
  script(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX'): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  const replies: Reply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      deliveries.push({ raw, json: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, headers });
      const reply = replies.shift() ?? { status: 200, body: 'ok' };
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    deliveries,
    script: (...r) => replies.push(...r),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
