// Generated data for the trainer benchmarks: n rows x 20 features with a known signal (linear
// terms, a threshold, an interaction and noise columns), a fixed seed, and a binary file layout
// that the Python side reads with numpy so both sides train on the very same rows and split.
import { writeFileSync } from 'node:fs';

/** xorshift-based uniform generator; Box-Muller for normals. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return {
    u,
    normal: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  };
}

export const F = 20;

export function generate(n, seed = 7) {
  const f = F;
  const r = rng(seed);
  const X = new Float32Array(n * f);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) {
      // Mixed column types: normals, uniforms, 0/1 flags and a skewed count.
      if (j % 5 === 3) X[o + j] = r.u() < 0.3 ? 1 : 0;
      else if (j % 5 === 4) X[o + j] = Math.floor(-Math.log(r.u()) * 3);
      else if (j % 2 === 0) X[o + j] = r.normal();
      else X[o + j] = r.u() * 2 - 1;
    }
    const x = (j) => X[o + j];
    const logit =
      -0.4 + 0.9 * x(0) - 0.7 * x(1) + 0.5 * x(2) + 0.8 * x(3) - 0.15 * x(4) + 0.3 * x(5)
      + 1.2 * (x(6) > 0.5 ? 1 : -0.3) + 1.0 * x(7) * x(8) + 0.6 * Math.sin(2 * x(10)) - 0.4 * x(12) * x(12);
    y[i] = r.u() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }
  return { X, y, n, f };
}

/** The same hash-free split for both sides: rows by index, 80 / 10 / 10. */
export function splitIndex(n) {
  const a = Math.floor(n * 0.8);
  const b = Math.floor(n * 0.9);
  return { train: [0, a], valid: [a, b], test: [b, n] };
}

export function slice(d, [s, e]) {
  return { X: d.X.subarray(s * d.f, e * d.f), y: d.y.subarray(s, e), n: e - s, f: d.f };
}

/** Raw little-endian float32 X then uint8 y, plus a JSON header the Python helper reads. */
export function writeBinary(d, base) {
  writeFileSync(`${base}.X.f32`, new Uint8Array(d.X.buffer, d.X.byteOffset, d.X.byteLength));
  writeFileSync(`${base}.y.u8`, d.y);
  writeFileSync(`${base}.json`, JSON.stringify({ n: d.n, f: d.f, split: splitIndex(d.n) }));
}
