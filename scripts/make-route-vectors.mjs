// Writes clients/vectors/routing.json: published test vectors for canary routing (SPEC 6.4), so a
// client in any language can check it splits traffic exactly like `mlops serve`. This is an
// independent transcription of the SPEC formula (not an import of src/canary/route.ts): the
// TypeScript and Python tests recompute every vector with their own implementation.
//
// Usage: node scripts/make-route-vectors.mjs [--check]   (--check: exit 1 if the file would change)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'clients', 'vectors', 'routing.json');

function bucket(model, version, key) {
  const h = createHash('sha256').update(Buffer.from(`${model}:${version}:${key}`, 'utf8')).digest();
  return h.readUInt32BE(0) % 10000;
}

function vector(model, canaryVersion, weight, key, note) {
  const b = bucket(model, canaryVersion, key);
  const threshold = Math.round(weight * 10000);
  const v = { model, canary_version: canaryVersion, weight, key, bucket: b, threshold, route: b < threshold ? 'canary' : 'production' };
  if (note) v.note = note;
  return v;
}

const M = 'backlink-success';
const V = 'v1.3.0';
const vectors = [];

// Ordinary keys over ordinary weights, including the default 10%.
const domains = ['example.org', 'blog.example.com', 'news.ycombinator.com', 'a.co', 'www.example.org'];
for (const w of [0.05, 0.1, 0.25, 0.5, 0.9]) for (const d of domains) vectors.push(vector(M, V, w, d));

// Edge weights: 0 and 1 (outside what deployments.yaml allows, but the formula is defined), one
// bucket, and products whose rounding is a coin toss in floating point.
for (const w of [0, 1, 0.0001, 0.9999, 0.00005, 0.00015, 0.12345, 0.99995, 0.3333333333333333, 0.07])
  for (const d of ['example.org', 't-81723']) vectors.push(vector(M, V, w, d, `edge weight ${w} -> ${Math.round(w * 10000)} buckets`));

// Keys that land exactly on either side of the 10% threshold (bucket 999 is canary, 1000 is not).
for (const target of [999, 1000, 0, 9999]) {
  for (let i = 0; ; i++) {
    const key = `key-${i}`;
    if (bucket(M, V, key) === target) {
      vectors.push(vector(M, V, 0.1, key, `bucket ${target}`));
      break;
    }
  }
}

// Unicode and awkward keys: the hash is over UTF-8 bytes, with no normalisation (NFC and NFD
// spellings are different keys), colons inside keys are just bytes.
const keys = [
  ['', 'empty key'],
  ['bücher.de', 'latin-1 range'],
  ['bu\u0308cher.de', 'NFD spelling of the previous key: a different key'],
  ['例え.テスト', 'CJK IDN'],
  ['xn--r8jz45g.xn--zckzah', 'punycode of the previous key'],
  ['😀.example', 'astral plane (surrogate pair in UTF-16)'],
  ['\ud800x', 'lone surrogate: encoded as U+FFFD, as Node does'],
  ['a:b:c', 'colons inside the key'],
  [' example.org ', 'spaces are part of the key'],
  ['EXAMPLE.ORG', 'case is part of the key'],
  ['x'.repeat(1000), 'long key'],
  ['tab\there\nnewline', 'control characters'],
];
for (const [k, note] of keys) vectors.push(vector(M, V, 0.1, k, note), vector(M, V, 0.5, k, note));

// Other models and versions: the canary version is part of the hash, so each canary draws a fresh sample.
for (const [m, v] of [['backlink-success', 'v1.4.0'], ['backlink-success', 'v2.0.0'], ['spam-filter', 'v1.0.0'], ['m', 'v10.20.30']])
  for (const d of domains.slice(0, 3)) vectors.push(vector(m, v, 0.1, d));

const doc = {
  description: 'Canary routing test vectors (SPEC 6.4). Recompute bucket, threshold and route for each vector.',
  formula: {
    hash: 'SHA-256 of the UTF-8 bytes of "<model>:<canary_version>:<key>"',
    bucket: 'first 4 bytes of the hash as an unsigned big-endian integer, mod 10000',
    threshold: 'round(weight * 10000) in IEEE double arithmetic, halves rounded up (JavaScript Math.round)',
    route: 'canary if bucket < threshold else production',
  },
  generated_by: 'scripts/make-route-vectors.mjs',
  count: vectors.length,
  vectors,
};
const text = JSON.stringify(doc, null, 2) + '\n';
if (process.argv.includes('--check')) {
  let old = '';
  try { old = readFileSync(out, 'utf8'); } catch { /* missing counts as changed */ }
  if (old !== text) { console.error(`${out} is out of date: run node scripts/make-route-vectors.mjs`); process.exit(1); }
  console.log(`${vectors.length} vectors up to date`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${vectors.length} vectors to clients/vectors/routing.json`);
}
