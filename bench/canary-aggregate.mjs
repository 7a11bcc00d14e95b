// Aggregation benchmark: folding 10,000,000 outcomes of the embedded store into the canary's
// streams (target: under 10 s, bounded memory). Writes the store to a temporary directory first
// (canonical lines, as the collector writes them), then times each reader in a fresh child
// process (wall time and peak RSS) next to two anchors over the same files in the same run:
// `wc -l` and a minimal Node line counter. Deletes the files afterwards. Run after `npm run build`.
//
//   node bench/canary-aggregate.mjs [--records 10000000] [--keep DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, writeSync, closeSync, rmSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRssMiB } from './lib.mjs';

const self = fileURLToPath(import.meta.url);
const START = '2026-11-29T09:00:00.000Z';
const AT = '2026-11-30T09:00:00.000Z';
const request = (production) => ({
  model: 'backlink-success',
  version: 'v1.3.0',
  production,
  startedAt: START,
  at: AT,
  thresholds: { canary: { max_response_time_ms: 100 }, rollback: { max_response_time_ms: 200 } },
});

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};

if (args[0] === '--child') {
  // One measurement in a fresh process, so peak RSS is the reader's own.
  const [, mode, dir] = args;
  const t = performance.now();
  let out;
  if (mode === 'wc-node') {
    let lines = 0;
    const buf = Buffer.allocUnsafe(1 << 20);
    for (const f of readdirSync(join(dir, '.mlops/outcomes')).sort()) {
      const fh = await open(join(dir, '.mlops/outcomes', f));
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (!bytesRead) break;
        for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) lines++;
      }
      await fh.close();
    }
    out = { lines };
  } else if (mode === 'generic') {
    // The store's general reader (JSON.parse + schema check per line) over the first shard only.
    const { readOutcomeStore } = await import('../dist/data/outcome-store.js');
    const { mkdtempSync: mk, symlinkSync } = await import('node:fs');
    const one = mk(join(tmpdir(), 'mlops-bench-one-'));
    mkdirSync(join(one, '.mlops/outcomes'), { recursive: true });
    const first = readdirSync(join(dir, '.mlops/outcomes')).sort()[0];
    symlinkSync(join(dir, '.mlops/outcomes', first), join(one, '.mlops/outcomes', first));
    let lines = 0;
    for await (const r of readOutcomeStore({ dir: one })) if (r) lines++;
    rmSync(one, { recursive: true, force: true });
    out = { lines };
  } else {
    const { readOutcomeStreams } = await import('../dist/metrics/outcome-source.js');
    const r = await readOutcomeStreams({ dir }, request(mode === 'with-production' ? 'v1.2.0' : null));
    out = { canary: { S: r.S, E: r.E, Lup: r.Lup, Ldown: r.Ldown }, production: r.production?.S ?? null, skipped: r.aggregate.skipped, other: r.aggregate.other, hours: r.aggregate.hourly.length };
  }
  const seconds = (performance.now() - t) / 1000;
  process.stdout.write(JSON.stringify({ seconds, maxRssMb: peakRssMiB() * 1.048576, ...out }) + '\n');
  process.exit(0);
}

/**
 * Canonical lines (the collector's field order and number formatting), written from a template
 * because building 10 million records through the simulator costs minutes. Timestamps run evenly
 * from 2.4 h before the canary's start to its 24th hour; two records in a thousand (one canary,
 * one production) are stamped two days ahead (clock skew). 10% of the records are the canary's,
 * with 2% errors against production's 1%.
 */
function writeStore(storeDir, total) {
  const shards = 10;
  const fds = Array.from({ length: shards }, (_, i) => openSync(join(storeDir, `replica-${i}.jsonl`), 'w'));
  const pending = fds.map(() => []);
  const t0 = Date.parse(START) - 2.4 * 3_600_000;
  const span = 26.4 * 3_600_000;
  let x = 12345;
  let lastSec = -1;
  let secText = '';
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < total; i++) {
    const canary = i % 10 === 3;
    const u = rand();
    const result = u < (canary ? 0.02 : 0.01) ? 'error' : u < 0.85 ? 'success' : 'failure';
    const rt = Math.round(20 * Math.exp(0.9 * (rand() + rand() + rand() - 1.5) * 2) * 1000) / 1000;
    const ms = Math.floor(t0 + (i / total) * span + (i % 1000 === 999 || i % 1000 === 3 ? 48 * 3_600_000 : 0));
    // toISOString per record is a large share of writing 10 million lines: reuse the second.
    const sec = Math.floor(ms / 1000);
    if (sec !== lastSec) {
      lastSec = sec;
      secText = new Date(sec * 1000).toISOString().slice(0, 20);
    }
    const ts = `${secText}${String(ms % 1000).padStart(3, '0')}Z`;
    const domain = `site-${i % 50000}.example`;
    const line =
      `{"task_id":"t-${i}","domain":"${domain}","url":"https://${domain}/post/${i}","action_attempted":"blog_comment",` +
      `"result":"${result}","failure_reason":${result === 'success' ? 'null' : result === 'error' ? '"timeout"' : '"rejected"'},"execution_time":${(2 + (i % 280) / 10).toFixed(1)},` +
      `"model":"backlink-success","model_version":"${canary ? 'v1.3.0' : 'v1.2.0'}","response_time_ms":${rt},"timestamp":"${ts}",` +
      `"features":{"domain_authority":${i % 100}}}`;
    const s = i % shards;
    pending[s].push(line);
    if (pending[s].length === 20_000) {
      writeSync(fds[s], pending[s].join('\n') + '\n');
      pending[s] = [];
    }
  }
  pending.forEach((p, s) => p.length && writeSync(fds[s], p.join('\n') + '\n'));
  fds.forEach((fd) => closeSync(fd));
}

const total = Number(arg('--records', '10000000'));
const keep = arg('--keep', null);
const dir = keep ?? mkdtempSync(join(tmpdir(), 'mlops-bench-store-'));
const storeDir = join(dir, '.mlops/outcomes');
mkdirSync(storeDir, { recursive: true });

try {
  const existing = readdirSync(storeDir).filter((f) => f.endsWith('.jsonl'));
  if (existing.length === 0) {
    const t = performance.now();
    writeStore(storeDir, total);
    console.log(`wrote ${total.toLocaleString('en')} outcomes in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const bytes = readdirSync(storeDir).reduce((s, f) => s + statSync(join(storeDir, f)).size, 0);
  console.log(`store: ${readdirSync(storeDir).length} files, ${(bytes / 1e9).toFixed(2)} GB`);

  const child = (mode) => {
    const r = spawnSync(process.execPath, ['--max-old-space-size=4096', self, '--child', mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  // Warm the page cache so every reader sees the same (cached) files.
  child('wc-node');

  const wcStart = performance.now();
  const wc = spawnSync('sh', ['-c', `cat ${JSON.stringify(storeDir)}/*.jsonl | wc -l`], { encoding: 'utf8' });
  const wcSeconds = (performance.now() - wcStart) / 1000;
  const lines = Number(wc.stdout.trim());
  const nodeCount = child('wc-node');
  const canaryOnly = child('canary-only');
  const withProd = child('with-production');
  const generic = child('generic');
  const perShard = lines / readdirSync(storeDir).length;

  const fmt = (s) => `${s.toFixed(2)} s`;
  console.log(`lines: ${lines.toLocaleString('en')} (wc -l), ${nodeCount.lines.toLocaleString('en')} (node line counter)`);
  console.log(`anchor wc -l:               ${fmt(wcSeconds)}`);
  console.log(`anchor node line counter:   ${fmt(nodeCount.seconds)}, peak RSS ${nodeCount.maxRssMb.toFixed(0)} MB`);
  console.log(`canary streams only:        ${fmt(canaryOnly.seconds)}, peak RSS ${canaryOnly.maxRssMb.toFixed(0)} MB  (x${(canaryOnly.seconds / wcSeconds).toFixed(1)} wc -l, x${(canaryOnly.seconds / nodeCount.seconds).toFixed(1)} node line counter)`);
  console.log(`canary + production series: ${fmt(withProd.seconds)}, peak RSS ${withProd.maxRssMb.toFixed(0)} MB  (x${(withProd.seconds / wcSeconds).toFixed(1)} wc -l, x${(withProd.seconds / nodeCount.seconds).toFixed(1)} node line counter)`);
  console.log(`store's generic reader (JSON.parse + schema), one shard of ${perShard.toLocaleString('en')} lines: ${fmt(generic.seconds)} -> ${fmt((generic.seconds * lines) / generic.lines)} extrapolated to all lines`);
  console.log(`canary counts: ${JSON.stringify(withProd.canary)}; production S: ${JSON.stringify(withProd.production)}`);
  console.log(`skipped: ${JSON.stringify(withProd.skipped)}; other: ${withProd.other}; hourly buckets: ${withProd.hours}`);
  const same = JSON.stringify(canaryOnly.canary) === JSON.stringify(withProd.canary);
  // The target is the analysis (`mlops canary analyze|check`), which reads the canary streams;
  // the production series are the dashboard's and are reported, not targeted.
  const ok = canaryOnly.seconds < 10 && same;
  console.log(`target: canary analysis of ${lines.toLocaleString('en')} outcomes under 10 s -> ${ok ? 'PASS' : 'FAIL'}${same ? '' : ' (canary counts differ between modes!)'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
