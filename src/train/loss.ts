// Log-loss helpers shared by the trainers (numerically stable in the raw-score domain).

/** log(1 + e^z) without overflow. */
export function log1pExp(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Mean log-loss of raw scores (log-odds) against 0/1 labels. */
export function meanLogLossRaw(raw: Float64Array, y: Uint8Array): number {
  const n = y.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += log1pExp(raw[i]) - y[i] * raw[i];
  return s / n;
}
