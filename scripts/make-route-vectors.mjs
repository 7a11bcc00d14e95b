// Writes clients/vectors/routing.json and clients/vectors/split.json: published test vectors for
// canary routing (SPEC 6.4) and the train/validation/test split (SPEC 6.2), so a client in any
// language can check it routes and splits exactly like mlops. This is an independent
// transcription of the SPEC formulas (not an import of src/): the TypeScript and Python tests
// recompute every vector with their own implementation.
//
// Usage: node scripts/make-route-vectors.mjs [--check]   (--check: exit 1 if the file would change)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'clients', 'vectors', 'routing.json');
const splitOut = join(root, 'clients', 'vectors', 'split.json');

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
// The split: b = first 4 bytes of SHA-256(utf8("split:" + task_id)) big-endian mod 100.
const splitVectors = [];
const splitKeys = ['t-81723', '', 'tâche-1', '😀', 'a'.repeat(300), ...Array.from({ length: 60 }, (_, i) => `task-${i}`)];
for (const task_id of splitKeys) {
  const b = createHash('sha256').update(Buffer.from(`split:${task_id}`, 'utf8')).digest().readUInt32BE(0) % 100;
  splitVectors.push({ task_id, bucket: b, split: b < 80 ? 'train' : b < 90 ? 'validation' : 'test' });
}
const splitDoc = {
  description: 'Train/validation/test split test vectors (SPEC 6.2). Recompute bucket and split for each task_id.',
  formula: {
    bucket: 'first 4 bytes of SHA-256 of the UTF-8 bytes of "split:" + task_id, as an unsigned big-endian integer, mod 100',
    split: 'train if bucket < 80, validation if bucket < 90, else test',
  },
  generated_by: 'scripts/make-route-vectors.mjs',
  count: splitVectors.length,
  vectors: splitVectors,
};

const outputs = [
  [out, JSON.stringify(doc, null, 2) + '\n', vectors.length],
  [splitOut, JSON.stringify(splitDoc, null, 2) + '\n', splitVectors.length],
];
if (process.argv.includes('--check')) {
  for (const [path, text, n] of outputs) {
    let old = '';
    try { old = readFileSync(path, 'utf8'); } catch { /* missing counts as changed */ }
    if (old !== text) { console.error(`${path} is out of date: run node scripts/make-route-vectors.mjs`); process.exit(1); }
    console.log(`${n} vectors up to date`);
  }
} else {
  for (const [path, text, n] of outputs) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${n} vectors to ${path.slice(root.length + 1)}`);
  }
}
