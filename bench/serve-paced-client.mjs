// A fixed-rate HTTP client for latency at a given load (wrk2 is not packaged here). Request i is
// due at start + i / rate; its latency is measured from that due time, not from when it was
// sent, so a stalled server is charged for the requests it delayed (no coordinated omission).
//   node bench/serve-paced-client.mjs <url> <rate/s> <seconds> [connections]
// Prints one JSON line: { sent, ok, failed, p50, p90, p99, p999, max } (ms).
import { Agent, request } from 'node:http';
import { requestBody } from './serve-fixture.mjs';

const [url, rateText, secondsText, connText = '32'] = process.argv.slice(2);
const rate = Number(rateText);
const total = Math.round(rate * Number(secondsText));
const agent = new Agent({ keepAlive: true, maxSockets: Number(connText) });
const bodies = Array.from({ length: 256 }, (_, i) => Buffer.from(requestBody(i)));
const latencies = [];
let ok = 0;
let failed = 0;
let done = 0;

const start = performance.now();
await new Promise((resolveAll) => {
  let next = 0;
  const fire = (i) => {
    const due = start + (i * 1000) / rate;
    const body = bodies[i % bodies.length];
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - due);
        if (res.statusCode === 200) ok++;
        else failed++;
        if (++done === total) resolveAll();
      });
    });
    req.on('error', () => {
      failed++;
      if (++done === total) resolveAll();
    });
    req.end(body);
  };
  const tick = () => {
    const now = performance.now();
    while (next < total && start + (next * 1000) / rate <= now) fire(next++);
    if (next < total) setTimeout(tick, Math.max(0, start + (next * 1000) / rate - performance.now()));
  };
  tick();
});
agent.destroy();
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
const r3 = (x) => Math.round(x * 1000) / 1000;
console.log(JSON.stringify({ sent: total, ok, failed, p50: r3(q(0.5)), p90: r3(q(0.9)), p99: r3(q(0.99)), p999: r3(q(0.999)), max: r3(latencies.at(-1)) }));
