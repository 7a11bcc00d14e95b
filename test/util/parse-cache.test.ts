import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParseCache } from '../../src/util/parse-cache.js';

let dir: string;
let cacheDir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-parse-cache-'));
  cacheDir = join(dir, '.mlops', 'cache');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A file last changed `agoMs` before now (older than the racy window unless said otherwise). */
function file(name: string, text: string, agoMs = 60_000) {
  const p = join(dir, name);
  writeFileSync(p, text);
  const t = (Date.now() - agoMs) / 1000;
  utimesSync(p, t, t);
  return { p, st: () => statSync(p) };
}

/** A cache saved with two old files' values, a.yaml -> { a: 1 } and b.yaml -> { b: 2 }. */
function savedAB() {
  const a = file('a.yaml', 'a: 1\n');
  const b = file('b.yaml', 'b: 2\n');
  const c = ParseCache.open(cacheDir, 'registry', '1.0.0');
  c.set('a.yaml', a.st(), { a: 1 });
  c.set('b.yaml', b.st(), { b: 2 });
  c.save();
  return { a, b };
}

describe('ParseCache', () => {
  it('serves values after a reopen, parsing only the entries asked for, and keeps untouched entries byte for byte', () => {
    const a = file('a.yaml', 'a: 1\n');
    const b = file('b.yaml', 'b: ünïcode\n');
    const c1 = ParseCache.open(cacheDir, 'registry', '1.0.0');
    c1.set('a.yaml', a.st(), { a: 1, nested: { list: [1, 2] } });
    c1.set('b.yaml', b.st(), { b: 'ünïcode' });
    c1.save();

    const c2 = ParseCache.open(cacheDir, 'registry', '1.0.0');
    expect(c2.get('b.yaml', b.st())).toEqual({ b: 'ünïcode' });
    // A new entry in a later run: the others are copied, not re-serialized.
    const c = file('c.yaml', 'c: 3\n');
    c2.set('c.yaml', c.st(), { c: 3 });
    c2.save();
    const c3 = ParseCache.open(cacheDir, 'registry', '1.0.0');
    expect(c3.get('a.yaml', a.st())).toEqual({ a: 1, nested: { list: [1, 2] } });
    expect(c3.get('b.yaml', b.st())).toEqual({ b: 'ünïcode' });
    expect(c3.get('c.yaml', c.st())).toEqual({ c: 3 });
    // The same object within one run.
    expect(c3.get('a.yaml', a.st())).toBe(c3.get('a.yaml', a.st()));
  });

  it('misses when the file changed, was touched within the racy window, or the tool version differs', () => {
    const a = file('a.yaml', 'a: 1\n');
    const fresh = file('fresh.yaml', 'f: 1\n', 0);
    const c1 = ParseCache.open(cacheDir, 'registry', '1.0.0');
    c1.set('a.yaml', a.st(), { a: 1 });
    c1.set('fresh.yaml', fresh.st(), { f: 1 });
    c1.save();
    expect(ParseCache.open(cacheDir, 'registry', '1.0.0').get('fresh.yaml', fresh.st())).toBeUndefined();
    expect(ParseCache.open(cacheDir, 'registry', '2.0.0').get('a.yaml', a.st())).toBeUndefined();
    file('a.yaml', 'a: 22\n');
    expect(ParseCache.open(cacheDir, 'registry', '1.0.0').get('a.yaml', a.st())).toBeUndefined();
  });

  it('treats a damaged cache file as empty and a damaged value as a miss', () => {
    const { a, b } = savedAB();
    const path = join(cacheDir, 'registry.json');
    const good = readFileSync(path);
    // The body's first value cut short: that entry misses, the next still reads.
    const nl = good.indexOf(10);
    writeFileSync(path, Buffer.concat([good.subarray(0, nl + 1), Buffer.from('{{{{{{'), good.subarray(nl + 1 + 6)]));
    const c2 = ParseCache.open(cacheDir, 'registry', '1.0.0');
    expect(c2.get('a.yaml', a.st())).toBeUndefined();
    expect(c2.get('b.yaml', b.st())).toEqual({ b: 2 });
    // Opened eager, the whole body fails to parse: values are parsed one by one instead.
    const eager = ParseCache.open(cacheDir, 'registry', '1.0.0', { eager: true });
    expect(eager.get('a.yaml', a.st())).toBeUndefined();
    expect(eager.get('b.yaml', b.st())).toEqual({ b: 2 });
    for (const junk of ['', 'not json', '{"format":3}\n', '{"format":3,"tool":"1.0.0","writtenAt":0,"paths":["b.yaml"],"fields":[1]}\n[]', good.subarray(0, nl).toString('utf8')]) {
      writeFileSync(path, junk);
      expect(ParseCache.open(cacheDir, 'registry', '1.0.0').get('b.yaml', b.st())).toBeUndefined();
    }
  });

  it('opened eager, serves every value from one parse of the body, still checking each stat', () => {
    const { a, b } = savedAB();
    const c2 = ParseCache.open(cacheDir, 'registry', '1.0.0', { eager: true });
    expect(c2.get('a.yaml', a.st())).toEqual({ a: 1 });
    expect(c2.get('b.yaml', b.st())).toEqual({ b: 2 });
    file('a.yaml', 'a: 10\n');
    expect(ParseCache.open(cacheDir, 'registry', '1.0.0', { eager: true }).get('a.yaml', a.st())).toBeUndefined();
  });

  it('retain() drops entries of files that are gone', () => {
    const { a, b } = savedAB();
    const c2 = ParseCache.open(cacheDir, 'registry', '1.0.0');
    c2.retain(new Set(['b.yaml']));
    c2.save();
    const c3 = ParseCache.open(cacheDir, 'registry', '1.0.0');
    expect(c3.get('a.yaml', a.st())).toBeUndefined();
    expect(c3.get('b.yaml', b.st())).toEqual({ b: 2 });
  });
});
