// The project's one seeded random number generator family: identical on every platform and
// Node version, so the same seed gives the same synthetic data, simulation and model bytes.
// splitmix32 turns a seed into well-mixed state words; sfc32 and xoshiro128** run from them.

/** splitmix32 stream from a seed: neighbouring seeds give unrelated words. */
export function splitmix32(seed: number): () => number {
  let x = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Uniform floats in [0, 1): sfc32 seeded through splitmix32 (fast, good enough statistically). */
export function seededRandom(seed: number): () => number {
  const sm = splitmix32(seed);
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}
