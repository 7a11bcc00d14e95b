// Shared helpers of the benchmarks: timing whole processes and in-process calls, medians, tables.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Median wall time (ms) of running a command `runs` times (after one warm-up). */
export function timeProcess(cmd, args, { cwd, runs = 15, env } = {}) {
  return timeProcesses([[cmd, args]], { cwd, runs, env })[0];
}

/**
 * Times several commands in rounds, each round running every command once in turn, so that a
 * slow phase of a shared machine falls on all of them alike. Returns per command its median,
 * min, max and the times of every round (for paired differences).
 */
export function timeProcesses(commands, { cwd, runs = 21, env } = {}) {
  const times = commands.map(() => []);
  for (let i = 0; i <= runs; i++) {
    commands.forEach(([cmd, args], k) => {
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
      const dt = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
      if (i > 0) times[k].push(dt); // the first round warms the page cache
    });
  }
  return times.map((t) => ({ median: median(t), min: Math.min(...t), max: Math.max(...t), times: t }));
}

/** Median of the round-by-round differences a[i] - b[i] (both from one timeProcesses call). */
export function pairedMedian(a, b) {
  return median(a.times.map((t, i) => t - b.times[i]));
}

/** Median time (ms) of an async in-process call. */
export async function timeCall(fn, { runs = 50 } = {}) {
  const times = [];
  await fn();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

export function fmt(ms) {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

export function printTable(title, rows) {
  console.log(`\n${title}`);
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log('  ' + r.map((c, i) => String(c).padEnd(w[i])).join('  '));
}

/**
 * Peak resident memory of this process in MiB. VmHWM, not getrusage's maxRSS: a child started by
 * spawnSync inherits its parent's maxRSS across exec, so a small child reports a large parent.
 */
export function peakRssMiB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
