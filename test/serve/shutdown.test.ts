// Graceful shutdown of `mlops serve`: on SIGTERM it stops accepting, lets requests in flight
// finish, closes its sessions and resolves `done` (the CLI then exits 0).
import { afterAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { serve } from '../../src/app/serve.js';
import { readOutcomesPage } from '../../src/data/outcome-store.js';
import { M, outcome, promoteVersion, registerArtifact, repoTemplate, trainedArtifact } from './helpers.js';

const one = repoTemplate(async (t) => {
  await registerArtifact(t.dir, trainedArtifact('logistic'));
  await promoteVersion(t.dir, 'v1.0.0');
});
afterAll(() => one.remove());

/** Waits for a condition, turn by turn of the event loop (no timers), with a deadline. */
async function until(what: string, cond: () => boolean, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function openRequest(port: number, head: string): { sock: Socket; answer: Promise<string> } {
  const sock = connect(port, '127.0.0.1');
  sock.write(head);
  const answer = new Promise<string>((resolve, reject) => {
    let text = '';
    sock.on('data', (d) => (text += d));
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
  });
  return { sock, answer };
}

function connectError(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(null);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('graceful shutdown', () => {
  it('on SIGTERM: stops accepting, finishes the request in flight, then resolves done', async () => {
    const t = await one.clone();
    const signals = new EventEmitter();
    const { server, done } = await serve({ dir: t.dir, signals, pollIntervalMs: 0, env: {} });
    const body = JSON.stringify(outcome(1));
    const half = Math.floor(body.length / 2);
    const { sock, answer } = openRequest(server.port, `POST /v1/outcomes HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, half)}`);
    await until('the request to be in flight', () => server.inFlight() === 1);

    let finished = false;
    void done.then(() => (finished = true));
    signals.emit('SIGTERM');
    expect(await connectError(server.port)).toBe('ECONNREFUSED');
    expect(finished).toBe(false); // still draining

    sock.write(body.slice(half));
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.toLowerCase()).toContain('connection: close');
    await done;
    expect(finished).toBe(true);
    // The record of the drained request is in the store.
    expect((await readOutcomesPage({ dir: t.dir })).records.map((r) => r.task_id)).toEqual(['out-1']);
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
  });

  it('cuts requests that do not finish within the drain time', async () => {
    const t = await one.clone();
    const signals = new EventEmitter();
    const { server, done } = await serve({ dir: t.dir, signals, pollIntervalMs: 0, drainTimeoutMs: 200, requestTimeoutMs: 60_000, env: {} });
    const { answer } = openRequest(server.port, `POST /v1/models/${M}/predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`);
    await until('the request to be in flight', () => server.inFlight() === 1);
    const started = Date.now();
    signals.emit('SIGINT');
    await done;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await answer).toBe(''); // the connection was closed without an answer
  });

  it('uses MLOPS_TOKEN from the environment for the outcome endpoints', async () => {
    const t = await one.clone();
    const { server, done } = await serve({ dir: t.dir, signals: null, pollIntervalMs: 0, env: { MLOPS_TOKEN: 'from-env' } });
    try {
      const post = (auth?: string) =>
        fetch(`${server.url}/v1/outcomes`, { method: 'POST', body: JSON.stringify(outcome(9)), headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } });
      expect((await post()).status).toBe(401);
      expect((await post('Bearer from-env')).status).toBe(200);
    } finally {
      await server.close();
      await done;
    }
  });

  it('prefers MLOPS_SERVE_TOKEN, so CI can keep MLOPS_TOKEN for GitHub', async () => {
    const t = await one.clone();
    const { server, done } = await serve({ dir: t.dir, signals: null, pollIntervalMs: 0, env: { MLOPS_SERVE_TOKEN: 'serve', MLOPS_TOKEN: 'github' } });
    try {
      const post = (auth: string) =>
        fetch(`${server.url}/v1/outcomes`, { method: 'POST', body: JSON.stringify(outcome(10)), headers: { 'content-type': 'application/json', authorization: auth } });
      expect((await post('Bearer github')).status).toBe(401);
      expect((await post('Bearer serve')).status).toBe(200);
    } finally {
      await server.close();
      await done;
    }
  });

  it('refuses a folder that is not a registry', async () => {
    await expect(serve({ dir: '/', signals: null })).rejects.toMatchObject({ code: 'NOT_A_REGISTRY' });
  });
});
