// Reload under load: wrk drives single-record predictions at `mlops serve` while the pointers in
// deployments.yaml change 10 times by real git commits (weights, and production and canary
// trading places, which loads and retires sessions). Target: zero failed requests (non-2xx or
// socket errors). Anchor: the same server under the same load with no pointer change, measured
// in the same run; the ratio shows what the reloads cost in throughput.
// Run after `npm run build`; skipped, saying so, without wrk.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeDeployments } from '../dist/registry/deployments.js';
import { buildFixture, git, hasCommand, MODEL, runWrk, startChild, wrkScript } from './serve-fixture.mjs';

const here = new URL('.', import.meta.url).pathname;
if (!hasCommand('wrk')) {
  console.log('serve-reload: skipped (wrk is not installed; apt-get install wrk)');
  process.exit(0);
}

const fixture = await buildFixture({ canaryWeight: 0.1 });
const { production: A, canary: B } = fixture;
// Ten moves: weights up, then production and canary trade places, then back, and so on.
const moves = [
  { production: A, canary: B, weight: 0.2 },
  { production: A, canary: B, weight: 0.5 },
  { production: B, canary: A, weight: 0.1 },
  { production: B, canary: A, weight: 0.3 },
  { production: B, canary: null, weight: 0 },
  { production: A, canary: null, weight: 0 },
  { production: A, canary: B, weight: 0.1 },
  { production: B, canary: A, weight: 0.5 },
  { production: A, canary: B, weight: 0.25 },
  { production: A, canary: B, weight: 0.1 },
];

async function servingState(url) {
  const r = await fetch(`${url}/v1/models/${MODEL}`);
  const s = await r.json();
  return `${s.production}|${s.canary ? `${s.canary.version}@${s.canary.weight}` : '-'}`;
}

let ok = true;
const srv = await startChild(join(here, 'serve-mlops-server.mjs'), [fixture.dir]);
try {
  const path = `/v1/models/${MODEL}/predict`;
  const script = wrkScript(path);
  await runWrk(srv.url + path, script, { seconds: 2 }); // warm-up
  const steady = await runWrk(srv.url + path, script, { seconds: 5 });

  const seconds = 16;
  const load = runWrk(srv.url + path, script, { seconds });
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 1000)); // let the load settle before the first move
  const reloadMs = [];
  for (const [i, m] of moves.entries()) {
    const doc = {
      apiVersion: 'mlops/v1',
      kind: 'Deployments',
      model: MODEL,
      production: m.production,
      canary: m.canary ? { version: m.canary, weight: m.weight, started_at: '2026-11-29T09:00:00Z' } : null,
    };
    writeFileSync(join(fixture.dir, 'registry', MODEL, 'deployments.yaml'), serializeDeployments(doc));
    const start = Date.now();
    git(fixture.dir, 'commit', '-q', '-am', `bench: move ${i + 1}`);
    const want = `${m.production}|${m.canary ? `${m.canary}@${m.weight}` : '-'}`;
    for (;;) {
      if ((await servingState(srv.url)) === want) break;
      if (Date.now() - start > 10_000) throw new Error(`move ${i + 1} was not served within 10 s`);
      await new Promise((r) => setTimeout(r, 20)); // polling interval of the observer
    }
    reloadMs.push(Date.now() - start);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const moved = (Date.now() - t0) / 1000;
  const r = await load;
  const failed = r.non2xx + r.socketErrors;
  reloadMs.sort((x, y) => x - y);
  console.log(`reload under load (wrk -t1 -c16 -d${seconds}s; server on CPU 0, wrk on CPU 1)`);
  console.log(`  ${moves.length} pointer moves by git commit in ${moved.toFixed(1)} s; commit -> serving: median ${reloadMs[reloadMs.length >> 1]} ms, max ${reloadMs.at(-1)} ms`);
  console.log(`  requests ${r.requests}, failed ${failed} (non-2xx ${r.non2xx}, socket errors ${r.socketErrors}); target 0`);
  console.log(`  throughput ${r.rps.toFixed(0)} req/s during moves vs ${steady.rps.toFixed(0)} req/s steady (anchor): ratio ${(r.rps / steady.rps).toFixed(3)}`);
  console.log(`  p99 ${r.latencyMs['99']?.toFixed(2)} ms during moves vs ${steady.latencyMs['99']?.toFixed(2)} ms steady`);
  ok = failed === 0;
} finally {
  await srv.stop();
  fixture.cleanup();
}
console.log(ok ? 'serve-reload: PASS' : 'serve-reload: FAIL');
process.exitCode = ok ? 0 : 1;
