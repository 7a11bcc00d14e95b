// Shared steps of the trainer benchmarks: write the data where the Python peer reads it, run the
// peer, time our side, and print both side by side with ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export const PYTHON = process.env.MLOPS_BENCH_PYTHON ?? '/usr/bin/python3';
const HELPER = fileURLToPath(new URL('./train-sklearn.py', import.meta.url));

export function workDir() {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-train-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** X (row-major float32), y (uint8) and the split as [start, end) row ranges. */
export function writeForPython(base, { X, y, n, f }, split) {
  writeFileSync(`${base}.X.f32`, new Uint8Array(X.buffer, X.byteOffset, X.byteLength));
  writeFileSync(`${base}.y.u8`, y);
  writeFileSync(`${base}.json`, JSON.stringify({ n, f, split }));
}

/** Runs the sklearn side; returns its JSON, or { skipped } when Python or sklearn is missing. */
export function runSklearn(base, kind, params) {
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, [HELPER, base, kind, JSON.stringify(params)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { skipped: `sklearn side failed: ${r.stderr.trim().split('\n').pop()}` };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Wall and CPU seconds of a synchronous call. */
export function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

export function load() {
  return loadavg()[0].toFixed(2);
}

const fmtS = (s) => `${s.toFixed(2)} s`;

/** Prints "ours vs sklearn" rows with the ratio; quality as a difference, time as a ratio. */
export function report(title, ours, peer, { aucSlack, timeGoal }) {
  console.log(`\n${title}`);
  if (peer.skipped) {
    console.log(`  ours: test AUC ${ours.auc.toFixed(4)}, fit ${fmtS(ours.fit_s)}`);
    console.log(`  sklearn comparison skipped: ${peer.skipped}`);
    return null;
  }
  const dAuc = ours.auc - peer.auc;
  const ratio = ours.fit_s / peer.fit_s;
  console.log(`  ${'metric'.padEnd(14)}${'ours'.padStart(12)}${`sklearn ${peer.sklearn}`.padStart(16)}   ratio / difference`);
  console.log(`  ${'test AUC'.padEnd(14)}${ours.auc.toFixed(4).padStart(12)}${peer.auc.toFixed(4).padStart(16)}   ${dAuc >= 0 ? '+' : ''}${dAuc.toFixed(4)} (target >= -${aucSlack}) ${dAuc >= -aucSlack ? 'OK' : 'MISSED'}`);
  console.log(`  ${'test log loss'.padEnd(14)}${ours.log_loss.toFixed(4).padStart(12)}${peer.log_loss.toFixed(4).padStart(16)}`);
  console.log(`  ${'fit time'.padEnd(14)}${fmtS(ours.fit_s).padStart(12)}${fmtS(peer.fit_s).padStart(16)}   x${ratio.toFixed(2)} (goal <= x${timeGoal}) ${ratio <= timeGoal ? 'OK' : 'MISSED'}`);
  console.log(`  ${'fit CPU time'.padEnd(14)}${fmtS(ours.fit_cpu_s).padStart(12)}${fmtS(peer.fit_cpu_s).padStart(16)}   x${(ours.fit_cpu_s / peer.fit_cpu_s).toFixed(2)} (all threads; steadier than wall time on a busy machine)`);
  console.log(`  ${'iterations'.padEnd(14)}${String(ours.iterations).padStart(12)}${String(peer.iterations).padStart(16)}`);
  return { dAuc, ratio };
}
