// Routing benchmark (SPEC 6.4): time per key of routeKey against its anchor, a bare SHA-256 of the
// same strings with createHash measured in the same run; the canary share over 1,000,000 random
// keys at several weights (must be within 0.5 percentage points); and a check that raising the
// weight moves no key back to production. Run after `npm run build`.
import { createHash, randomBytes } from 'node:crypto';
import { routeKey } from '../dist/canary/route.js';

const N = 1_000_000;
const model = 'backlink-success';
const canaryVersion = 'v1.3.0';
// Random keys shaped like domains; built up front so only routing is timed.
const keys = Array.from({ length: N }, () => `${randomBytes(6).toString('hex')}.example.org`);

function time(fn) {
  const t = process.hrtime.bigint();
  const r = fn();
  return { ns: Number(process.hrtime.bigint() - t), r };
}

// Warm up both paths so the JIT has settled before timing.
for (let i = 0; i < 50_000; i++) {
  routeKey({ model, canaryVersion, weight: 0.1, key: keys[i] });
  createHash('sha256').update(`${model}:${canaryVersion}:${keys[i]}`).digest();
}

const runs = [];
for (let rep = 0; rep < 3; rep++) {
  const anchor = time(() => {
    let s = 0;
    for (let i = 0; i < N; i++) s += createHash('sha256').update(`${model}:${canaryVersion}:${keys[i]}`).digest()[0];
    return s;
  });
  const routed = time(() => {
    let c = 0;
    for (let i = 0; i < N; i++) if (routeKey({ model, canaryVersion, weight: 0.1, key: keys[i] }) === 'canary') c++;
    return c;
  });
  runs.push({ anchor: anchor.ns / N / 1000, route: routed.ns / N / 1000 });
}
const best = (k) => Math.min(...runs.map((r) => r[k]));
console.log(`routing: ${best('route').toFixed(3)} µs/key (best of 3 x ${N.toLocaleString('en')} keys; target < 2 µs)`);
console.log(`anchor:  ${best('anchor').toFixed(3)} µs/key for createHash('sha256') of the same strings`);
console.log(`ratio:   routeKey / createHash = ${(best('route') / best('anchor')).toFixed(2)}`);

let ok = best('route') < 2;
for (const weight of [0.01, 0.05, 0.1, 0.25, 0.5, 0.9]) {
  let canary = 0;
  for (let i = 0; i < N; i++) if (routeKey({ model, canaryVersion, weight, key: keys[i] }) === 'canary') canary++;
  const share = canary / N;
  const pp = Math.abs(share - weight) * 100;
  ok &&= pp <= 0.5;
  console.log(`share at weight ${weight}: ${(share * 100).toFixed(3)}% (off by ${pp.toFixed(3)} pp; target <= 0.5 pp)`);
}

let movedBack = 0;
for (let i = 0; i < N; i++) {
  const k = keys[i];
  if (routeKey({ model, canaryVersion, weight: 0.1, key: k }) === 'canary' && routeKey({ model, canaryVersion, weight: 0.2, key: k }) !== 'canary') movedBack++;
}
ok &&= movedBack === 0;
console.log(`keys moved back to production when the weight rose from 0.1 to 0.2: ${movedBack}`);
console.log(ok ? 'route-speed: PASS' : 'route-speed: FAIL');
process.exitCode = ok ? 0 : 1;
