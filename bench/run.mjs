// `npm run bench [-- name...]`: runs the benchmarks one after another (each prints its anchor,
// measured in the same run, and the ratio). With names, only those (e.g. `registry serve-throughput`).
// Benchmarks are not tests: these machines are shared, so read the ratios, not the seconds.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const BENCHMARKS = [
  ['registry', 'get / list / history at 1,000 versions and 10,000 commits vs git show'],
  ['dashboard-build', 'the dashboard of 1,000 versions and 10,000 commits vs git log'],
  ['data-hash', 'SHA-256 of 1 GiB vs openssl dgst'],
  ['data-append', 'outcome appends: batched records/s and single-record p99 with fsync'],
  ['data-collect', 'collect over 1,000,000 outcomes: time and peak memory'],
  ['route-speed', 'routing µs/key and canary share over 1,000,000 keys'],
  ['canary-aggregate', 'aggregating 10,000,000 outcomes vs wc -l'],
  ['canary-decision', 'false and true rollback rates over 1,000 simulated canaries, both methods'],
  ['train-gbdt', 'gbdt vs sklearn HistGradientBoosting on 1,000,000 x 20: AUC and time'],
  ['train-gbdt-fit', 'gbdt fit alone, one thread (anchor) vs two'],
  ['train-logistic', 'logistic vs sklearn LogisticRegression on 1,000,000 x 20: AUC and time'],
  ['train-synth', 'both trainers vs sklearn on the synthetic backlink outcomes'],
  ['serve-throughput', 'mlops serve vs a minimal onnxruntime server: requests/s and p99 at 1,000 req/s'],
  ['serve-reload', 'failed requests while the pointers change 10 times under load'],
  ['retrain', 'the full retrain on 200,000 locked outcomes, per step'],
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHMARKS.some(([n]) => n === w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}\navailable:\n${BENCHMARKS.map(([n, d]) => `  ${n.padEnd(18)} ${d}`).join('\n')}`);
  process.exit(2);
}
let failed = 0;
for (const [name, what] of BENCHMARKS) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n=== ${name}: ${what}`);
  const r = spawnSync(process.execPath, [join(here, `${name}.mjs`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`=== ${name} exited with ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);
