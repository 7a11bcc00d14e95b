// Hot reload on real git operations: the server follows deployments.yaml, swaps atomically,
// lets requests in flight finish on the old session and never swaps in a version it cannot load.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../src/serve/server.js';
import { ModelPool } from '../../src/serve/model-pool.js';
import { route } from '../../src/canary/route.js';
import { serializeDeployments } from '../../src/registry/deployments.js';
import { LOAD_FAILING, LOAD_FAILURES_TOTAL, VERSION_LOADED } from '../../src/serve/metrics.js';
import {
  M,
  http,
  parseExposition,
  postJson,
  promoteVersion,
  record,
  registerArtifact,
  repoTemplate,
  sampleValue,
  startCanary,
  trainedArtifact,
  twoVersionRepo,
} from './helpers.js';

const predict = (url: string, body: unknown) => postJson(`${url}/v1/models/${M}/predict`, body);
const keys = Array.from({ length: 200 }, (_, i) => `k-${i}`);
const two = repoTemplate((t) => twoVersionRepo(0.5, t));
const one = repoTemplate(async (t) => {
  await registerArtifact(t.dir, trainedArtifact('logistic'));
  await promoteVersion(t.dir, 'v1.0.0');
});
afterAll(() => {
  two.remove();
  one.remove();
});
const canaryAt = (w: number) =>
  serializeDeployments({ apiVersion: 'mlops/v1', kind: 'Deployments', model: M, production: 'v1.0.0', canary: { version: 'v1.1.0', weight: w, started_at: '2026-11-29T09:00:00Z' } });

describe('hot reload', () => {
  it('follows a real `git revert` of a promotion: after the reload event the restored version serves', async () => {
    const t = await two.clone();
    const promotion = await promoteVersion(t.dir, 'v1.1.0');
    const s = await startServer({ dir: t.dir, pollIntervalMs: 0 });
    try {
      const before = (await predict(s.url, keys.map((key) => record(1, { key })))).json().predictions as Array<{ version: string }>;
      expect(new Set(before.map((p) => p.version))).toEqual(new Set(['v1.1.0']));

      const reloaded = s.waitFor((st) => st.models[M]?.serving?.production === 'v1.0.0', { timeoutMs: 20_000 });
      t.git('revert', '--no-edit', promotion);
      const status = await reloaded;
      // The revert restores the state before the promotion: v1.0.0 in production, v1.1.0 canary at 0.5.
      expect(status.models[M]).toMatchObject({ serving: { production: 'v1.0.0', canary: { version: 'v1.1.0', weight: 0.5 } }, upToDate: true, failures: [] });
      const after = (await predict(s.url, keys.map((key) => record(1, { key })))).json().predictions as Array<{ version: string; route: string }>;
      const restored = { model: M, production: 'v1.0.0', canary: { version: 'v1.1.0', weight: 0.5 } };
      after.forEach((p, i) => expect(p.version).toBe(route(restored, keys[i]!).version));
      expect(after.filter((p) => p.version === 'v1.0.0').length).toBeGreaterThan(60);
      const m = parseExposition((await http(`${s.url}/metrics`)).text);
      expect(sampleValue(m, VERSION_LOADED, { version: 'v1.0.0', stage: 'production' })).toBe(1);
      expect(sampleValue(m, VERSION_LOADED, { version: 'v1.1.0', stage: 'canary' })).toBe(1);
      expect(sampleValue(m, VERSION_LOADED, { version: 'v1.1.0', stage: 'production' })).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('never swaps in a corrupted ONNX: the old version keeps serving, the failure shows in /readyz and metrics', async () => {
    const t = await one.clone();
    const s = await startServer({ dir: t.dir, pollIntervalMs: 0 });
    try {
      const good = trainedArtifact('gbdt');
      const corrupt = Buffer.from(good.onnx.subarray(0, Math.floor(good.onnx.length / 2))); // truncated
      await registerArtifact(t.dir, { onnx: corrupt, features: good.features }, { dataset: 'mlops.config.json' });
      const failed = s.waitFor((st) => (st.models[M]?.failures ?? []).some((f) => f.version === 'v1.1.0'), { timeoutMs: 20_000 });
      await startCanary(t.dir, 'v1.1.0', 0.5);
      const status = await failed;
      expect(status.models[M]).toMatchObject({
        ready: true,
        upToDate: false,
        serving: { production: 'v1.0.0', canary: null },
        desired: { production: 'v1.0.0', canary: { version: 'v1.1.0', weight: 0.5 } },
        failures: [{ version: 'v1.1.0', stage: 'canary', code: 'ONNX_INVALID' }],
      });
      // Every key still gets an answer, all from the version that loaded.
      const r = await predict(s.url, keys.map((key) => record(1, { key })));
      expect(r.status).toBe(200);
      expect(new Set((r.json().predictions as Array<{ version: string }>).map((p) => p.version))).toEqual(new Set(['v1.0.0']));
      const ready = await http(`${s.url}/readyz`);
      expect([ready.status, ready.json().status]).toEqual([200, 'degraded']);
      expect(ready.json().models[M].failures[0]).toMatchObject({ code: 'ONNX_INVALID', version: 'v1.1.0' });
      expect((await http(`${s.url}/readyz?strict=1`)).status).toBe(503);
      const m = parseExposition((await http(`${s.url}/metrics`)).text);
      expect(sampleValue(m, LOAD_FAILING, { version: 'v1.1.0' })).toBe(1);
      expect(sampleValue(m, LOAD_FAILURES_TOTAL, { version: 'v1.1.0', code: 'ONNX_INVALID' })).toBe(1);

      // A failing version is not retried on every check: the count stays at one.
      await s.reload();
      await s.reload();
      const again = parseExposition((await http(`${s.url}/metrics`)).text);
      expect(sampleValue(again, LOAD_FAILURES_TOTAL, { version: 'v1.1.0', code: 'ONNX_INVALID' })).toBe(1);

      // Aborting the canary (a real commit) clears the failure.
      const cleared = s.waitFor((st) => st.models[M]?.upToDate === true, { timeoutMs: 20_000 });
      t.commit('abort canary', { [`registry/${M}/deployments.yaml`]: serializeDeployments({ apiVersion: 'mlops/v1', kind: 'Deployments', model: M, production: 'v1.0.0', canary: null }) });
      await cleared;
      expect(sampleValue(parseExposition((await http(`${s.url}/metrics`)).text), LOAD_FAILING, { version: 'v1.1.0' })).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('refuses an artifact changed after registration (hash mismatch) and an unreadable deployments.yaml, serving on', async () => {
    const t = await two.clone();
    const s = await startServer({ dir: t.dir, pollIntervalMs: 0 });
    try {
      await registerArtifact(t.dir, trainedArtifact('logistic', 2), { dataset: 'data/train.csv' });
      writeFileSync(join(t.dir, `registry/${M}/versions/v1.1.1/model.onnx`), trainedArtifact('gbdt').onnx);
      const failed = s.waitFor((st) => (st.models[M]?.failures ?? []).some((f) => f.code === 'ARTIFACT_HASH_MISMATCH'), { timeoutMs: 20_000 });
      writeFileSync(
        join(t.dir, `registry/${M}/deployments.yaml`),
        serializeDeployments({ apiVersion: 'mlops/v1', kind: 'Deployments', model: M, production: 'v1.1.1', canary: null }),
      );
      await failed;
      expect((await predict(s.url, record(1, { key: keys[0] }))).status).toBe(200);

      const broken = s.waitFor((st) => (st.models[M]?.failures ?? []).some((f) => f.version === null), { timeoutMs: 20_000 });
      writeFileSync(join(t.dir, `registry/${M}/deployments.yaml`), 'apiVersion: mlops/v1\nkind: Deployments\nmodel: [unclosed\n');
      const st = await broken;
      expect(st.models[M]!.failures[0]!.code).toMatch(/YAML_PARSE_ERROR|DEPLOYMENTS_INVALID/);
      expect(st.models[M]!.serving).toEqual({ production: 'v1.0.0', canary: { version: 'v1.1.0', weight: 0.5 } });
      const r = await predict(s.url, keys.map((key) => record(1, { key })));
      expect(new Set((r.json().predictions as Array<{ version: string }>).map((p) => p.version))).toEqual(new Set(['v1.0.0', 'v1.1.0']));
    } finally {
      await s.close();
    }
  });

  it('picks up a change by the stat poll alone (no fs.watch)', async () => {
    const t = await two.clone();
    const s = await startServer({ dir: t.dir, watch: false, pollIntervalMs: 100 });
    try {
      const moved = s.waitFor((st) => st.models[M]?.serving?.canary?.weight === 0.25, { timeoutMs: 20_000 });
      t.commit('weight', { [`registry/${M}/deployments.yaml`]: canaryAt(0.25) });
      await moved;
      const preds = (await predict(s.url, keys.map((key) => record(1, { key })))).json().predictions as Array<{ version: string; bucket: number }>;
      preds.forEach((p) => expect(p.version).toBe(p.bucket < 2500 ? 'v1.1.0' : 'v1.0.0'));
    } finally {
      await s.close();
    }
  });

  it('answers every request while the pointers change under load', async () => {
    const t = await two.clone();
    t.commit('weight 0.1', { [`registry/${M}/deployments.yaml`]: canaryAt(0.1) });
    const s = await startServer({ dir: t.dir, pollIntervalMs: 0, debounceMs: 10 });
    let stop = false;
    const statuses: number[] = [];
    const client = async () => {
      let i = 0;
      while (!stop) {
        const r = await predict(s.url, record(i++, { key: `k${i % 50}` }));
        statuses.push(r.status);
      }
    };
    try {
      const clients = [client(), client(), client()];
      for (const w of [0.2, 0.3, 0.4, 0.5, 0.6]) {
        const reached = s.waitFor((st) => st.models[M]?.serving?.canary?.weight === w, { timeoutMs: 20_000 });
        t.commit(`weight ${w}`, { [`registry/${M}/deployments.yaml`]: canaryAt(w) });
        await reached;
      }
      stop = true;
      await Promise.all(clients);
      expect(statuses.length).toBeGreaterThan(10);
      expect(statuses.filter((c) => c !== 200)).toEqual([]);
    } finally {
      stop = true;
      await s.close();
    }
  });
});

describe('model pool', () => {
  it('a request holding the old version finishes on its session; the session closes when it is released', async () => {
    const t = await two.clone();
    const pool = new ModelPool({ root: t.dir, watch: false, pollIntervalMs: 0, keepWarm: 0 });
    try {
      await pool.start();
      const old = pool.get(M)!;
      const handle = old.versions.get('v1.1.0')!;
      handle.acquire(); // a request in flight on the canary
      await promoteVersion(t.dir, 'v1.1.0');
      const next = await registerArtifact(t.dir, trainedArtifact('logistic', 3), { dataset: 'data/train.csv' });
      // Point production elsewhere: v1.1.0, held by the request, leaves the serving set.
      t.commit(`point production at ${next}`, {
        [`registry/${M}/deployments.yaml`]: serializeDeployments({ apiVersion: 'mlops/v1', kind: 'Deployments', model: M, production: next, canary: null }),
      });
      const report = await pool.check();
      expect(report.swapped).toEqual([M]);
      expect([...pool.get(M)!.versions.keys()]).toEqual([next]);
      expect(pool.get(M)).not.toBe(old);
      // Still usable by the request that holds it.
      expect(handle.isClosed).toBe(false);
      const x = new Float32Array(handle.loaded.nFeatures);
      expect((await handle.loaded.scorer.predict({ X: x, n: 1, f: x.length })).length).toBe(1);
      handle.release();
      expect(handle.isClosed).toBe(true);
      // v1.0.0 left the set with no request on it: closed at the swap.
      expect(old.versions.get('v1.0.0')!.isClosed).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('keeps a loaded version across reloads while its manifest hashes are unchanged', async () => {
    const t = await two.clone();
    const pool = new ModelPool({ root: t.dir, watch: false, pollIntervalMs: 0 });
    try {
      await pool.start();
      const prod = pool.get(M)!.versions.get('v1.0.0')!;
      t.commit('weight', { [`registry/${M}/deployments.yaml`]: canaryAt(0.3) });
      const r = await pool.check();
      expect(r.loaded).toEqual([]);
      expect(r.swapped).toEqual([M]);
      expect(pool.get(M)!.versions.get('v1.0.0')).toBe(prod);
      expect(pool.get(M)!.routing.canary?.weight).toBe(0.3);
      const same = await pool.check();
      expect(same.swapped).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('keeps the version it swapped out loaded, so flipping back (a rollback) loads nothing', async () => {
    const t = await two.clone();
    const pool = new ModelPool({ root: t.dir, watch: false, pollIntervalMs: 0 });
    const only = (production: string) =>
      serializeDeployments({ apiVersion: 'mlops/v1', kind: 'Deployments', model: M, production, canary: null });
    try {
      await pool.start();
      const v1 = pool.get(M)!.versions.get('v1.0.0')!;
      const v2 = pool.get(M)!.versions.get('v1.1.0')!;
      t.commit('only v1.1.0', { [`registry/${M}/deployments.yaml`]: only('v1.1.0') });
      await pool.check();
      expect(v1.isClosed).toBe(false); // parked, not closed
      t.commit('back to v1.0.0', { [`registry/${M}/deployments.yaml`]: only('v1.0.0') });
      const back = await pool.check();
      expect(back.loaded).toEqual([]);
      expect(pool.get(M)!.versions.get('v1.0.0')).toBe(v1);
      expect(v2.isClosed).toBe(false); // now v1.1.0 is the parked one
      t.commit('only v1.1.0 again', { [`registry/${M}/deployments.yaml`]: only('v1.1.0') });
      await pool.check();
      expect(pool.get(M)!.versions.get('v1.1.0')).toBe(v2);
    } finally {
      await pool.close();
    }
    expect(pool.get(M)).toBeUndefined();
  });
});
