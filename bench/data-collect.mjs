// Benchmark: `mlops data collect` over 1,000,000 outcomes (target < 10 s, bounded memory).
// The store is generated first (not timed); collect then runs in a child process so its peak RSS
// is its own. Anchor, measured in the same run on the same file: GNU `sort` of the store's lines
// (an external sort of the same bytes, the closest standard tool to what collect does), and a
// bare read + JSON.parse of every line. Run after `npm run build`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRssMiB } from './lib.mjs';

const ROWS = Number(process.env.BENCH_COLLECT_ROWS ?? 1_000_000);
const here = fileURLToPath(new URL('.', import.meta.url));
const dist = join(here, '..', 'dist');

if (process.argv[2] === '--child') {
  // Child: one collect, then report time and peak RSS as JSON.
  const { collectOutcomes } = await import(join(dist, 'app', 'data-collect.js'));
  const { createInterface } = await import('node:readline');
  const { createReadStream } = await import('node:fs');
  const what = process.argv[4];
  const t = process.hrtime.bigint();
  let result;
  if (what === 'parse') {
    let n = 0;
    for await (const line of createInterface({ input: createReadStream(process.argv[5]), crlfDelay: Infinity })) if (line) { JSON.parse(line); n++; }
    result = { rows: n };
  } else {
    const r = await collectOutcomes({ dir: process.argv[3], now: new Date('2026-12-01T02:00:00Z') });
    result = { newRows: r.newRows, sealed: r.sealed, changed: r.changed, shardBytes: r.shard?.bytes ?? 0 };
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const u = process.resourceUsage();
  process.stdout.write(JSON.stringify({ seconds, cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssMiB: peakRssMiB(), ...result }));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-collect-'));
try {
  const { synthOutcomeStream } = await import(join(dist, 'data', 'synth.js'));
  const { outcomeToJson } = await import(join(dist, 'data', 'outcome.js'));
  mkdirSync(join(dir, '.mlops', 'outcomes'), { recursive: true });
  const store = join(dir, '.mlops', 'outcomes', '2026-11-30.jsonl');
  const fd = openSync(store, 'w');
  // A live store is in append order, which is nearly time order: generate it in 20 time slices,
  // each sorted by timestamp, like a month of appends.
  const SLICES = 20;
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  const span = Date.parse('2026-12-01T00:00:00Z') - t0;
  for (let k = 0; k < SLICES; k++) {
    const slice = [...synthOutcomeStream({
      seed: 3 + k,
      idPrefix: `b${k}`,
      rows: Math.ceil(ROWS / SLICES),
      start: new Date(t0 + (span * k) / SLICES).toISOString(),
      end: new Date(t0 + (span * (k + 1)) / SLICES).toISOString(),
      domains: 2000,
    })].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    writeSync(fd, slice.map((r) => outcomeToJson(r) + '\n').join(''));
  }
  closeSync(fd);
  const bytes = statSync(store).size;

  const child = (what, extra = []) => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, what, ...extra], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  };
  const time = (cmd, args) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t) / 1e9;
  };

  readFileSync(store); // warm the page cache for everyone
  const sortT = time('sort', ['-S', '25%', '-T', dir, '-o', join(dir, 'sorted.txt'), store]);
  rmSync(join(dir, 'sorted.txt'), { force: true });
  const parse = child('parse', [store]);
  const first = child('collect');
  const second = child('collect');

  console.log(`collect over ${ROWS.toLocaleString('en-US')} outcomes (${(bytes / 2 ** 20).toFixed(0)} MiB of JSONL)`);
  console.log(`  anchor: LC_ALL=C sort of the store lines       ${sortT.toFixed(2)} s`);
  const show = (r) => `${r.seconds.toFixed(2)} s (CPU ${r.cpu.toFixed(2)} s), peak RSS ${r.maxRssMiB.toFixed(0)} MiB`;
  console.log(`  anchor: read + JSON.parse every line (node)    ${show(parse)}`);
  console.log(`  collect, all new (${first.newRows.toLocaleString('en-US')} rows, shard ${(first.shardBytes / 2 ** 20).toFixed(0)} MiB)   ${show(first)}`);
  console.log(`  collect again, nothing new (${second.sealed.toLocaleString('en-US')} sealed)  ${show(second)}`);
  console.log(`  load average during the run: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on ${(await import('node:os')).availableParallelism()} cores`);
  console.log(`  ratio collect / sort: ${(first.seconds / sortT).toFixed(2)}x; collect / parse: ${(first.seconds / parse.seconds).toFixed(2)}x; target < 10 s ${first.seconds < 10 ? 'PASS' : 'FAIL'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
