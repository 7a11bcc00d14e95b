// Fit time of the gbdt trainer alone, with one thread (the anchor) and with two, alternately, on
// the rows and settings of train-gbdt.mjs: the quick loop for work on the trainer, without the
// sklearn run. Prints the median wall and CPU seconds of each and the two-thread speed-up.
//   npm run build && node bench/train-gbdt-fit.mjs [rows] [runs]
import { performance } from 'node:perf_hooks';
import { trainGbdt } from '../dist/train/gbdt.js';
import { generate, splitIndex, slice } from './train-data.mjs';
import { load } from './train-common.mjs';

const rows = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 3);
const data = generate(rows);
const split = splitIndex(rows);
const train = slice(data, split.train);
const valid = slice(data, split.valid);
const params = { trees: 100, depth: 6, learning_rate: 0.1, max_bins: 255, min_samples_leaf: 20, l2: 0, early_stopping_rounds: 0 };
console.log(`gbdt fit: ${train.n} x ${train.f} training rows, ${runs} runs per thread count, load average ${load()}`);

const times = { 1: { wall: [], cpu: [] }, 2: { wall: [], cpu: [] } };
for (let r = 0; r < runs; r++) {
  for (const threads of [1, 2]) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    trainGbdt({ train, valid, params, seed: 42, threads });
    times[threads].wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    times[threads].cpu.push((c.user + c.system) / 1e6);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const threads of [1, 2]) {
  const { wall, cpu } = times[threads];
  console.log(`  ${threads} thread${threads > 1 ? 's' : ' '}: fit ${median(wall).toFixed(2)} s wall (runs ${wall.map((w) => w.toFixed(2)).join(', ')}), ${median(cpu).toFixed(2)} s CPU`);
}
console.log(`  two threads vs one: x${(median(times[1].wall) / median(times[2].wall)).toFixed(2)} faster`);
console.log(`  load average at the end ${load()}`);
