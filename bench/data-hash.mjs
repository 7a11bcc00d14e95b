// Benchmark: SHA-256 of a 1 GiB file by the data layer's hashFile, against `openssl dgst -sha256`
// on the same file in the same run (target: >= 90% of openssl's throughput). Both read from the
// page cache (the file is read once before timing). Run after `npm run build`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from '../dist/data/hash-file.js';

const SIZE = Number(process.env.BENCH_HASH_BYTES ?? 1 << 30);
const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-hash-'));
const file = join(dir, 'data.bin');
try {
  const block = randomBytes(8 << 20);
  const fd = openSync(file, 'w');
  for (let written = 0; written < SIZE; written += block.length) writeSync(fd, block, 0, Math.min(block.length, SIZE - written));
  closeSync(fd);
  await hashFile(file); // warm the page cache

  // Rounds alternate the contenders so background load hits them alike; best of each is kept.
  const runs = { openssl: { t: Infinity }, ours: { t: Infinity } };
  const time = async (key, fn) => {
    const s = process.hrtime.bigint();
    const out = await fn();
    const t = Number(process.hrtime.bigint() - s) / 1e9;
    if (t < runs[key].t) runs[key] = { t, out };
  };
  for (let round = 0; round < 5; round++) {
    await time('openssl', () => {
      const r = spawnSync('openssl', ['dgst', '-sha256', '-r', file], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr || r.error}`);
      return r.stdout.split(' ')[0];
    });
    await time('ours', () => hashFile(file));
  }
  const { openssl, ours } = runs;
  if (ours.out.sha256 !== openssl.out) throw new Error('hash mismatch');
  const gb = SIZE / 1e9;
  const line = (name, t) => `${name.padEnd(34)} ${(gb / t).toFixed(2)} GB/s  (${t.toFixed(3)} s)`;
  console.log(`hashing ${(SIZE / 2 ** 30).toFixed(2)} GiB from the page cache, best of 5 alternating rounds`);
  console.log(line('anchor: openssl dgst -sha256', openssl.t));
  console.log(line('hashFile (1 MiB reads)', ours.t));
  const ratio = openssl.t / ours.t;
  console.log(`ratio hashFile / openssl throughput: ${(ratio * 100).toFixed(1)}% (target >= 90%) ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
