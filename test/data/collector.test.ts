import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getFeedbackCollector } from '../../src/data/collector.js';
import { readOutcomeStore, readOutcomesPage, type StoreWarning } from '../../src/data/outcome-store.js';
import { MAX_OUTCOME_LINE_BYTES, type OutcomeInput, type OutcomeRecord } from '../../src/data/outcome.js';
import { tempDir } from '../helpers/gitdir.js';
import { buildForChildren } from './helpers/child-build.js';

const CHILD = fileURLToPath(new URL('./fixtures/append-child.mjs', import.meta.url));

// Typed loosely on purpose: the corpus below sends wrong types through the public API.
const rec = (i: number, over: Record<string, unknown> = {}): OutcomeInput =>
  ({
    task_id: `t-${i}`,
    domain: 'example.org',
    action_attempted: 'blog_comment',
    result: i % 2 ? 'success' : 'failure',
    timestamp: new Date(Date.UTC(2026, 10, 26, 10, 0, i)).toISOString(),
    ...over,
  }) as OutcomeInput;

async function readAll(dir: string, warnings: StoreWarning[] = []): Promise<OutcomeRecord[]> {
  const out: OutcomeRecord[] = [];
  for await (const r of readOutcomeStore({ dir, onWarning: (w) => warnings.push(w) })) out.push(r);
  return out;
}

const day = new Date(Date.UTC(2026, 10, 26, 12));
const collectorAt = (dir: string, durability: 'fsync' | 'none' = 'none') => getFeedbackCollector({ dir, durability, now: () => day });

describe('feedback collector', () => {
  it('appends records to the day file as JSON lines and reads them back normalized', async () => {
    const dir = tempDir();
    const c = collectorAt(dir, 'fsync');
    await c.appendOutcome(rec(1));
    const res = await c.appendOutcomes([rec(2), rec(3, { result: true })]);
    await c.close();
    expect(res).toEqual({ accepted: 2, rejected: [] });
    expect(readdirSync(join(dir, '.mlops/outcomes'))).toEqual(['2026-11-26.jsonl']);
    const got = await readAll(dir);
    expect(got.map((r) => r.task_id)).toEqual(['t-1', 't-2', 't-3']);
    expect(got[2]!.result).toBe('success');
  });

  it('rejects an invalid record with a reason naming the field and writes nothing', async () => {
    const dir = tempDir();
    const c = collectorAt(dir);
    await expect(c.appendOutcome(rec(1, { result: 'maybe' }))).rejects.toMatchObject({ code: 'OUTCOME_INVALID', message: expect.stringContaining('/result') });
    await expect(c.appendOutcomes([rec(1), rec(2, { domain: undefined })])).rejects.toMatchObject({
      code: 'OUTCOME_INVALID',
      message: expect.stringContaining('#1 (t-2): /domain: is required'),
    });
    await c.close();
    expect(await readAll(dir)).toEqual([]);
  });

  it('writes the valid part of a batch under onInvalid: skip and lists the rest', async () => {
    const dir = tempDir();
    const c = collectorAt(dir);
    const res = await c.appendOutcomes([rec(1), { nope: true } as never, rec(3, { timestamp: 'later' })], { onInvalid: 'skip' });
    await c.close();
    expect(res.accepted).toBe(1);
    expect(res.rejected.map((r) => r.index)).toEqual([1, 2]);
    expect((await readAll(dir)).map((r) => r.task_id)).toEqual(['t-1']);
  });

  it('refuses a record over the line limit with OUTCOME_LINE_TOO_LONG', async () => {
    const dir = tempDir();
    const c = collectorAt(dir);
    const features: Record<string, string> = {};
    for (let k = 0; k < 64; k++) features[`k${k}`] = 'x'.repeat(1024);
    await expect(c.appendOutcome(rec(1, { features }))).rejects.toMatchObject({ code: 'OUTCOME_LINE_TOO_LONG' });
    await c.close();
  });

  it('shares one flush between concurrent calls and keeps every record', async () => {
    const dir = tempDir();
    const c = collectorAt(dir, 'fsync');
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.appendOutcome(rec(i))));
    await c.close();
    const got = await readAll(dir);
    expect(new Set(got.map((r) => r.task_id)).size).toBe(200);
  });

  it('several processes appending at once never tear or interleave lines', async () => {
    const dir = tempDir();
    const built = buildForChildren();
    const writers = ['a', 'b', 'c', 'd'];
    const runs = writers.map(
      (id, n) =>
        new Promise<string[]>((resolve, reject) => {
          const child = spawn(process.execPath, [CHILD, built, dir, id, '600', n % 2 ? 'single' : 'batch', '37'], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (err += d));
          child.on('exit', (code) => (code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`writer ${id} exited ${code}: ${err}`))));
        }),
    );
    const acked = (await Promise.all(runs)).flat();
    const warnings: StoreWarning[] = [];
    const got = await readAll(dir, warnings);
    expect(warnings).toEqual([]);
    expect(got.length).toBe(acked.length);
    expect(new Set(got.map((r) => r.task_id))).toEqual(new Set(acked));
    expect(acked.length).toBeGreaterThanOrEqual(4 * 600);
  });

  it('a writer killed with SIGKILL mid-append leaves every acknowledged record readable', async () => {
    const dir = tempDir();
    const built = buildForChildren();
    const acked = await new Promise<string[]>((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, built, dir, 'k', '0', 'forever', '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let buf = '';
      const ids: string[] = [];
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        ids.push(...lines.filter(Boolean));
        // Kill while it is appending: it always has the next batch in flight.
        if (ids.length >= 2000 && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(ids) : reject(new Error(`child ended ${code} ${signal}`))));
    });
    // A second writer after the crash: its first write terminates any torn fragment.
    const after = getFeedbackCollector({ dir, durability: 'none' });
    await after.appendOutcome(rec(999_999));
    await after.close();
    const got = new Set((await readAll(dir)).map((r) => r.task_id));
    for (const id of acked) expect(got.has(id)).toBe(true);
    expect(got.has('t-999999')).toBe(true);
  });

  it('a torn last line is counted, not read, and the next append is not glued to it', async () => {
    const dir = tempDir();
    const c = collectorAt(dir);
    await c.appendOutcome(rec(1));
    const file = join(dir, '.mlops/outcomes/2026-11-26.jsonl');
    appendFileSync(file, '{"task_id":"torn","domain":"exa');
    const warnings: StoreWarning[] = [];
    expect((await readAll(dir, warnings)).map((r) => r.task_id)).toEqual(['t-1']);
    expect(warnings.map((w) => w.code)).toEqual(['OUTCOME_LINE_TRUNCATED']);
    await c.appendOutcome(rec(2));
    await c.close();
    const w2: StoreWarning[] = [];
    expect((await readAll(dir, w2)).map((r) => r.task_id)).toEqual(['t-1', 't-2']);
    expect(w2.map((w) => w.code)).toEqual(['OUTCOME_INVALID']);
  });
});

describe('outcome store reader: bad-input corpus', () => {
  it('skips and counts invalid, non-UTF-8, oversize and torn lines, keeping every valid record', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.mlops/outcomes'), { recursive: true });
    const good = (i: number) => JSON.stringify(rec(i)) + '\n';
    const parts: Array<string | Buffer> = [
      good(1),
      '{"task_id":"x","domain":"a.org"}\n', // missing fields
      good(2),
      'not json at all\n',
      Buffer.concat([Buffer.from('{"task_id":"bad-\xff'.replace('\xff', ''), 'utf8'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]),
      good(3),
      '{"task_id":"big","x":"' + 'y'.repeat(MAX_OUTCOME_LINE_BYTES + 10) + '"}\n',
      good(4),
      '\n\n',
      JSON.stringify(rec(5, { result: 'unknown' })) + '\n',
      JSON.stringify(rec(6, { domain: 7 })) + '\n',
      good(7).replace('\n', '\r\n'),
      '{"task_id":"torn"',
    ];
    writeFileSync(join(dir, '.mlops/outcomes/a.jsonl'), Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));
    writeFileSync(join(dir, '.mlops/outcomes/ignored.txt'), good(100));
    const warnings: StoreWarning[] = [];
    const store = readOutcomeStore({ dir, onWarning: (w) => warnings.push(w) });
    const ids: string[] = [];
    for await (const r of store) ids.push(r.task_id);
    expect(ids).toEqual(['t-1', 't-2', 't-3', 't-4', 't-7']);
    expect(store.stats.skipped).toEqual({ invalid: 4, too_long: 1, not_utf8: 1, truncated: 1, duplicate: 0 });
    expect(warnings.map((w) => w.code).sort()).toEqual(
      ['ENCODING_INVALID', 'OUTCOME_INVALID', 'OUTCOME_INVALID', 'OUTCOME_INVALID', 'OUTCOME_INVALID', 'OUTCOME_LINE_TOO_LONG', 'OUTCOME_LINE_TRUNCATED'].sort(),
    );
  });

  it('reads files in name order and can hand out each task_id once', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.mlops/outcomes'), { recursive: true });
    writeFileSync(join(dir, '.mlops/outcomes/b.jsonl'), JSON.stringify(rec(2)) + '\n' + JSON.stringify(rec(1)) + '\n');
    writeFileSync(join(dir, '.mlops/outcomes/a.jsonl'), JSON.stringify(rec(1)) + '\n');
    expect((await readAll(dir)).map((r) => r.task_id)).toEqual(['t-1', 't-2', 't-1']);
    const unique = readOutcomeStore({ dir, unique: true });
    const ids: string[] = [];
    for await (const r of unique) ids.push(r.task_id);
    expect(ids).toEqual(['t-1', 't-2']);
    expect(unique.stats.skipped.duplicate).toBe(1);
  });
});

describe('outcome pages (cursor)', () => {
  it('pages through the store and the cursor stays valid across appends to any file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.mlops/outcomes'), { recursive: true });
    const a = join(dir, '.mlops/outcomes/a.jsonl');
    const b = join(dir, '.mlops/outcomes/b.jsonl');
    writeFileSync(a, [1, 2, 3].map((i) => JSON.stringify(rec(i)) + '\n').join(''));
    writeFileSync(b, [4, 5].map((i) => JSON.stringify(rec(i)) + '\n').join('') + '{"partial');
    const p1 = await readOutcomesPage({ dir, limit: 2 });
    expect(p1.records.map((r) => r.task_id)).toEqual(['t-1', 't-2']);
    expect(p1.done).toBe(false);
    const p2 = await readOutcomesPage({ dir, after: p1.next, limit: 10 });
    expect(p2.records.map((r) => r.task_id)).toEqual(['t-3', 't-4', 't-5']);
    expect(p2.done).toBe(true);
    // More lines land in both files, and the partial line is completed.
    appendFileSync(a, JSON.stringify(rec(6)) + '\n');
    appendFileSync(b, '"}\n' + JSON.stringify(rec(7)) + '\n');
    const p3 = await readOutcomesPage({ dir, after: p2.next, limit: 10 });
    expect(p3.records.map((r) => r.task_id)).toEqual(['t-6', 't-7']);
    expect(p3.skipped).toBe(1); // the completed partial line is not a record
    // The old cursor still works and reads the same suffix again.
    const again = await readOutcomesPage({ dir, after: p1.next, limit: 100 });
    expect(again.records.map((r) => r.task_id)).toEqual(['t-3', 't-6', 't-4', 't-5', 't-7']);
    const empty = await readOutcomesPage({ dir, after: p3.next });
    expect(empty).toMatchObject({ records: [], done: true, next: p3.next });
  });

  it.each(['garbage', 'o1.!!!', 'o1.' + Buffer.from('{"a":1}').toString('base64url'), 'o1.' + Buffer.from('[["../x.jsonl",1]]').toString('base64url')])(
    'refuses the malformed cursor %s',
    async (cursor) => {
      const dir = tempDir();
      await expect(readOutcomesPage({ dir, after: cursor })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    },
  );

  it('refuses a cursor that does not point at a line start', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.mlops/outcomes'), { recursive: true });
    writeFileSync(join(dir, '.mlops/outcomes/a.jsonl'), JSON.stringify(rec(1)) + '\n');
    const cursor = 'o1.' + Buffer.from('[["a.jsonl",5]]').toString('base64url');
    await expect(readOutcomesPage({ dir, after: cursor })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    void readFileSync;
  });
});
