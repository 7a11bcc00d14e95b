// The full retrain at scale (issue: 200,000 locked outcomes, collect -> PR in under 60 s on two
// cores). Builds a registry with 200,000 outcomes locked in weekly shards and a production
// version, adds a week of new outcomes, then times `mlops retrain` (local forge) as a whole
// process and prints its per-step times. Anchor, same run: reading the locked data once
// (`openssl dgst -sha256` over the shards), the floor any retrain pays.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'dist/cli/main.js');
const LOCKED = Number(process.env.BENCH_ROWS ?? 200_000);
const WEEKS = 8;
const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-retrain-'));
const git = (...a) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' });
const mlops = (...a) => {
  const r = spawnSync(process.execPath, [bin, ...a], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`mlops ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
try {
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.test');
  writeFileSync(join(dir, 'README.md'), 'bench\n');
  git('add', '.');
  git('commit', '-qm', 'start');
  mlops('init', '--forge', 'local', '--no-workflows');
  const t0 = performance.now();
  const day = 86_400_000;
  const start = Date.parse('2026-09-06T00:00:00Z');
  for (let w = 0; w < WEEKS; w++) {
    mlops('data', 'synth', '--rows', String(LOCKED / WEEKS), '--seed', String(100 + w), '--world-seed', '7', '--start', new Date(start + w * 7 * day).toISOString(), '--end', new Date(start + (w + 1) * 7 * day).toISOString());
    mlops('data', 'collect', '--commit');
  }
  mlops('train', '--out', '.mlops/v1');
  mlops('register', '--model', 'backlink-success', '--artifact', '.mlops/v1/model.onnx', '--sidecar', '.mlops/v1/features.json', '--dataset', 'backlink-outcomes', '--metrics', '.mlops/v1/metrics.json', '--trainer', 'gbdt');
  mlops('promote', 'backlink-success@v1.0.0');
  mlops('data', 'synth', '--rows', '25000', '--seed', '999', '--world-seed', '7', '--start', new Date(start + WEEKS * 7 * day).toISOString(), '--end', new Date(start + (WEEKS + 1) * 7 * day).toISOString());
  console.log(`registry: ${LOCKED} locked outcomes in ${WEEKS} shards, v1.0.0 in production, 25,000 new outcomes (set up in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);

  const shards = readdirSync(join(dir, 'datasets/backlink-outcomes')).map((f) => join(dir, 'datasets/backlink-outcomes', f));
  const a0 = performance.now();
  execFileSync('openssl', ['dgst', '-sha256', ...shards], { stdio: 'ignore' });
  const anchor = performance.now() - a0;

  const r0 = performance.now();
  const out = mlops('retrain', '--json');
  const total = performance.now() - r0;
  const result = JSON.parse(out);
  console.log(`\nretrain: ${result.status} ${result.version} (${result.deploy}), test AUC ${result.metrics.auc.toFixed(4)} vs production ${result.production.metrics.auc.toFixed(4)}`);
  console.log('\nper step (ms):');
  for (const s of result.steps) console.log(`  ${s.name.padEnd(13)} ${String(s.ms).padStart(7)}  ${s.detail}`);
  console.log(`\n  whole process  ${(total / 1000).toFixed(1)} s   (target < 60 s)`);
  console.log(`  anchor: openssl dgst -sha256 over the ${shards.length} shards  ${anchor.toFixed(0)} ms   ratio ${(total / anchor).toFixed(1)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
