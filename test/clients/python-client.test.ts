import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { splitBucket, splitOf } from '../../src/data/split.js';
import { bucketOf, routeKey } from '../../src/canary/route.js';

const pythonDir = fileURLToPath(new URL('../../clients/python/', import.meta.url));
const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = probe.status === 0;
if (!hasPython) console.warn('skipping the Python client tests: python3 is not installed');

describe.skipIf(!hasPython)('clients/python (python3 -m unittest)', () => {
  it('passes its unittest suite: vectors, routing, split, outcome client against a local server', () => {
    const r = spawnSync('python3', ['-m', 'unittest', '-v', 'test_mlops_client'], { cwd: pythonDir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out, out).toMatch(/\nOK\s*$/);
    expect(r.status).toBe(0);
    // The suite really ran (a broken import would run zero tests and still say OK).
    const ran = /Ran (\d+) tests/.exec(out);
    expect(Number(ran?.[1])).toBeGreaterThanOrEqual(20);
  });

  it('agrees with the TypeScript routing on random keys, including non-ASCII', () => {
    const script = `
import json, sys, mlops_client as mc
for line in sys.stdin:
    v = json.loads(line)
    print(json.dumps([mc.bucket_of(v["m"], v["v"], v["k"]), mc.route(v["m"], v["v"], v["w"], v["k"])]))
`;
    const cases = Array.from({ length: 300 }, (_, i) => ({ m: 'backlink-success', v: `v1.${i % 7}.0`, w: (i % 101) / 100, k: `kéy-${i}-${String.fromCodePoint(0x1f600 + (i % 50))}` }));
    const r = spawnSync('python3', ['-c', script], { cwd: pythonDir, input: cases.map((c) => JSON.stringify(c)).join('\n'), encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as [number, string]);
    expect(got).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      expect(got[i]).toEqual([bucketOf({ model: c.m, canaryVersion: c.v, key: c.k }), routeKey({ model: c.m, canaryVersion: c.v, weight: c.w, key: c.k })]);
    });
  });
});

describe('split vectors (clients/vectors/split.json) against src/data/split.ts', () => {
  const doc = JSON.parse(readFileSync(new URL('../../clients/vectors/split.json', import.meta.url), 'utf8')) as { vectors: Array<{ task_id: string; bucket: number; split: string }> };
  it('recomputes every vector', () => {
    expect(doc.vectors.length).toBeGreaterThan(50);
    for (const v of doc.vectors) {
      expect(splitBucket(v.task_id)).toBe(v.bucket);
      expect(splitOf(v.task_id)).toBe(v.split);
    }
  });
});
