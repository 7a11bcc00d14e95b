// A real Prometheus (Debian's /usr/bin/prometheus) scrapes `mlops serve` and answers queries over
// its series. Skipped, saying so, where Prometheus is not installed.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { serve } from '../../src/app/serve.js';
import { OUTCOMES_TOTAL } from '../../src/metrics/prometheus-names.js';
import { prometheusSource } from '../../src/metrics/prometheus-source.js';
import { tempDir } from '../helpers/gitdir.js';
import { M, outcome, postJson, promoteVersion, registerArtifact, repoTemplate, trainedArtifact } from './helpers.js';

const PROMETHEUS = '/usr/bin/prometheus';
const present = existsSync(PROMETHEUS);
if (!present) console.warn(`skipping the Prometheus scrape test: ${PROMETHEUS} is not installed (apt-get install prometheus)`);

const one = repoTemplate(async (t) => {
  await registerArtifact(t.dir, trainedArtifact('logistic'));
  await promoteVersion(t.dir, 'v1.0.0');
});
afterAll(() => one.remove());

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls a query until it has a sample matching `ok` (Prometheus needs a few scrapes: ~6 s here). */
async function pollQuery(base: string, query: string, ok: (v: number) => boolean, deadlineMs: number): Promise<number> {
  const end = Date.now() + deadlineMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body = (await r.json()) as { status: string; data?: { result: Array<{ value: [number, string] }> } };
      last = JSON.stringify(body).slice(0, 300);
      const v = body.data?.result[0] ? Number(body.data.result[0].value[1]) : undefined;
      if (v !== undefined && ok(v)) return v;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > end) throw new Error(`Prometheus did not answer ${query} as expected within ${deadlineMs} ms; last: ${last}`);
    await new Promise((r) => setTimeout(r, 250)); // a poll interval with a deadline, not a synchronisation sleep
  }
}

describe.skipIf(!present)('scraped by a real Prometheus', () => {
  it('Prometheus scrapes mlops serve and answers queries on its series', async () => {
    const t = await one.clone();
    const { server, done } = await serve({ dir: t.dir, port: 0, signals: null, pollIntervalMs: 0 });
    let prom: ChildProcess | undefined;
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    try {
      for (let i = 0; i < 5; i++) expect((await postJson(`${server.url}/v1/outcomes`, outcome(i))).status).toBe(200);
      const work = tempDir('mlops-prom-');
      const port = await freePort();
      writeFileSync(
        join(work, 'prometheus.yml'),
        `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: mlops\n    static_configs:\n      - targets: ['127.0.0.1:${server.port}']\n`,
      );
      prom = spawn(PROMETHEUS, [`--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      prom.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
      const base = `http://127.0.0.1:${port}`;
      try {
        expect(await pollQuery(base, `up{job="mlops"}`, (v) => v === 1, 40_000)).toBe(1);
        expect(await pollQuery(base, `mlops_model_version_loaded{model="${M}",version="v1.0.0",stage="production"}`, (v) => v === 1, 20_000)).toBe(1);
        // outcome(i) is a failure for i % 4 === 0 (i = 0 and 4): 3 successes out of 5.
        expect(await pollQuery(base, `sum(${OUTCOMES_TOTAL}{model="${M}",version="v1.0.0",result="success"})`, (v) => v === 3, 20_000)).toBe(3);
        expect(await pollQuery(base, `sum(${OUTCOMES_TOTAL}{model="${M}",version="v1.0.0"})`, (v) => v === 5, 20_000)).toBe(5);
        // The canary's own Prometheus source reads the same counts: S = not success, L = slow.
        const streams = await prometheusSource({ url: base }).streams({
          model: M,
          version: 'v1.0.0',
          startedAt,
          at: new Date().toISOString(),
          thresholds: { canary: { max_response_time_ms: 100 }, rollback: { max_response_time_ms: 200 } },
        });
        expect({ S: streams.S, E: streams.E, Lup: streams.Lup }).toEqual({ S: { n: 5, k: 2 }, E: { n: 5, k: 0 }, Lup: { n: 5, k: 0 } });
      } catch (e) {
        throw new Error(`${(e as Error).message}\nprometheus stderr:\n${stderr}`);
      }
    } finally {
      prom?.kill('SIGTERM');
      if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
      await server.close();
      await done;
    }
  }, 90_000);
});
