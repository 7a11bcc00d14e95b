// Benchmark: appending outcomes with durability (fdatasync before each call resolves).
// - batched: appendOutcomes in batches of 1,000 (target >= 100,000 records/s)
// - single: one appendOutcome at a time, awaited (target p99 < 2 ms)
// Anchor, measured in the same run on the same disk: the bare I/O floor, i.e. the same bytes
// appended with one write + fdatasync per batch (or per record), without validation or JSON.
// Anchor and collector alternate batch by batch (record by record for latencies) so that other
// load on the machine hits both alike. Run after `npm run build`.
import { mkdtempSync, rmSync, openSync, writeSync, fdatasyncSync, closeSync } from 'node:fs';
import { loadavg, availableParallelism } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFeedbackCollector } from '../dist/data/collector.js';
import { outcomeToJson } from '../dist/data/outcome.js';
import { synthOutcomes } from '../dist/data/synth.js';

const BATCHED = Number(process.env.BENCH_APPEND_ROWS ?? 300_000);
const BATCH = Number(process.env.BENCH_APPEND_BATCH ?? 1000);
const SINGLE = Number(process.env.BENCH_APPEND_SINGLE ?? 5000);
const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-append-'));

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const now = () => process.hrtime.bigint();
const ms = (a, b) => Number(b - a) / 1e6;

try {
  const records = synthOutcomes({ seed: 11, rows: BATCHED, start: '2026-11-01T00:00:00Z', end: '2026-11-08T00:00:00Z' });
  const lines = records.map((r) => outcomeToJson(r) + '\n');
  const fd = openSync(join(dir, 'anchor.jsonl'), 'a');
  const collector = getFeedbackCollector({ dir: join(dir, 'ours') });

  let anchorMs = 0;
  let oursMs = 0;
  for (let i = 0; i < records.length; i += BATCH) {
    let s = now();
    writeSync(fd, '\n' + lines.slice(i, i + BATCH).join(''));
    fdatasyncSync(fd);
    anchorMs += ms(s, now());
    s = now();
    await collector.appendOutcomes(records.slice(i, i + BATCH));
    oursMs += ms(s, now());
  }
  const anchorRate = records.length / (anchorMs / 1000);
  const oursRate = records.length / (oursMs / 1000);

  const anchorLat = [];
  const lat = [];
  for (let i = 0; i < SINGLE; i++) {
    let s = now();
    writeSync(fd, '\n' + lines[i]);
    fdatasyncSync(fd);
    anchorLat.push(ms(s, now()));
    s = now();
    await collector.appendOutcome(records[i]);
    lat.push(ms(s, now()));
  }
  closeSync(fd);
  await collector.close();
  anchorLat.sort((a, b) => a - b);
  lat.sort((a, b) => a - b);

  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`batched appends, ${BATCH} records per call, fdatasync per call (${BATCHED.toLocaleString('en-US')} records)`);
  console.log(`  anchor: write + fdatasync of the same bytes   ${f(anchorRate)} records/s`);
  console.log(`  appendOutcomes (validate, normalize, write)   ${f(oursRate)} records/s`);
  console.log(`  ratio ours / anchor: ${((oursRate / anchorRate) * 100).toFixed(1)}%; target >= 100,000 records/s ${oursRate >= 100_000 ? 'PASS' : 'FAIL'}`);
  console.log(`single appends, awaited one at a time (${SINGLE} records)`);
  console.log(`  anchor: write + fdatasync of one line         p50 ${pct(anchorLat, 0.5).toFixed(3)} ms  p99 ${pct(anchorLat, 0.99).toFixed(3)} ms`);
  console.log(`  appendOutcome                                 p50 ${pct(lat, 0.5).toFixed(3)} ms  p99 ${pct(lat, 0.99).toFixed(3)} ms`);
  console.log(`  ratio p99 ours / anchor: ${(pct(lat, 0.99) / pct(anchorLat, 0.99)).toFixed(2)}x; target p99 < 2 ms ${pct(lat, 0.99) < 2 ? 'PASS' : 'FAIL'}`);
  console.log(`  load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
