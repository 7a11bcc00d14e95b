import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectOutcomes } from '../../src/app/data-collect.js';
import { applyCollect, planCollect, prepareCollect, discardCollect } from '../../src/data/collect.js';
import { loadDatasetRecords } from '../../src/data/dataset.js';
import { emptyLock, parseLock, type MergeStrategy } from '../../src/data/lock.js';
import { normalizeOutcome, type OutcomeRecord } from '../../src/data/outcome.js';
import { canonicalCsv, outcomeToRow } from '../../src/data/shard.js';
import { gitdir, tempDir } from '../helpers/gitdir.js';
import { outcome, writeStore } from './helpers/store.js';
import { buildForChildren } from './helpers/child-build.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NOW = new Date('2026-11-22T02:00:04.500Z');
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const DS = 'backlink-outcomes';

function lockOf(dir: string) {
  return parseLock(readFileSync(join(dir, 'datasets.lock'), 'utf8'));
}

describe('collect', () => {
  it('seals the store into a canonical shard and writes datasets.lock (SPEC 5)', async () => {
    const dir = tempDir();
    const records = Array.from({ length: 50 }, (_, i) => outcome(i));
    writeStore(dir, 'a.jsonl', records.slice(25));
    writeStore(dir, 'b.jsonl', records.slice(0, 25));
    const r = await collectOutcomes({ dir, now: NOW });
    const expected = canonicalCsv(records.map((x) => normalizeOutcome(x)));
    expect(r.shard).toEqual({
      path: `datasets/${DS}/2026-11-22-${sha(expected).slice(0, 8)}.csv`,
      sha256: sha(expected),
      bytes: Buffer.byteLength(expected),
      rows: 50,
      created_at: '2026-11-22T02:00:04Z',
    });
    expect(readFileSync(join(dir, r.shard!.path), 'utf8')).toBe(expected);
    expect(r).toMatchObject({ newRows: 50, changed: true, written: [r.shard!.path, 'datasets.lock'], merged: { sha256: sha(expected), rows: 50 } });
    const lock = lockOf(dir);
    expect(lock.datasets[DS]).toEqual({ schema: 'outcome_v1', merge_strategy: 'append', shards: [r.shard], merged: { sha256: sha(expected), rows: 50 } });
    expect(readdirSync(join(dir, '.mlops', 'tmp'))).toEqual([]);
  });

  it('running twice with no new outcomes changes nothing', async () => {
    const dir = tempDir();
    writeStore(dir, 'a.jsonl', Array.from({ length: 20 }, (_, i) => outcome(i)));
    await collectOutcomes({ dir, now: NOW });
    const before = readFileSync(join(dir, 'datasets.lock'));
    const r = await collectOutcomes({ dir, now: new Date('2026-11-29T02:00:00Z') });
    expect(r).toMatchObject({ changed: false, newRows: 0, sealed: 20, shard: null, written: [] });
    expect(readFileSync(join(dir, 'datasets.lock')).equals(before)).toBe(true);
    expect(readdirSync(join(dir, 'datasets', DS))).toHaveLength(1);
  });

  it('append: drops exact duplicates and different records of sealed task_ids, counts them, merges by set', async () => {
    const dir = tempDir();
    const first = Array.from({ length: 10 }, (_, i) => outcome(i));
    writeStore(dir, 'a.jsonl', first);
    await collectOutcomes({ dir, now: NOW });
    const fresh = [outcome(10), outcome(11), outcome(11) /* exact dup */, outcome(2, { result: 'error' }) /* conflict */];
    writeStore(dir, 'b.jsonl', fresh);
    const r = await collectOutcomes({ dir, now: new Date('2026-11-23T00:00:00Z') });
    expect(r).toMatchObject({ newRows: 2, sealed: 10, dropped: { duplicate: 1, conflict: 1, stale: 0, superseded: 0, invalid: 0 } });
    const lock = lockOf(dir);
    expect(lock.datasets[DS]!.shards).toHaveLength(2);
    const all = [...first, outcome(10), outcome(11)].map((x) => normalizeOutcome(x));
    expect(lock.datasets[DS]!.merged).toEqual({ sha256: sha(canonicalCsv(all)), rows: 12 });
    const loaded = await loadDatasetRecords({ dir, name: DS });
    expect(loaded.records.map((x) => x.task_id)).toEqual(all.map((x) => x.task_id));
    expect(loaded.sha256).toBe(lock.datasets[DS]!.merged.sha256);
  });

  it('dedupe: a later record of a sealed task_id is sealed as an update and the merged set takes it', async () => {
    const dir = tempDir();
    writeStore(dir, 'a.jsonl', [outcome(1), outcome(2)]);
    await collectOutcomes({ dir, now: NOW, mergeStrategy: 'dedupe' });
    const newer = outcome(1, { result: 'error', timestamp: '2026-11-25T00:00:00Z' });
    const older = outcome(2, { result: 'error', timestamp: '2026-11-01T00:00:00Z' });
    writeStore(dir, 'b.jsonl', [newer, older]);
    const r = await collectOutcomes({ dir, now: new Date('2026-11-26T00:00:00Z') });
    expect(r).toMatchObject({ mergeStrategy: 'dedupe', newRows: 1, updates: 1, dropped: { stale: 1 } });
    const merged = [normalizeOutcome(newer), normalizeOutcome(outcome(2))];
    expect(r.merged).toEqual({ sha256: sha(canonicalCsv(merged)), rows: 2 });
    const loaded = await loadDatasetRecords({ dir, name: DS });
    expect(loaded.records).toEqual(merged.sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1)));
    // And nothing flips on the next run: the older versions are stale, the newer already sealed.
    const again = await collectOutcomes({ dir, now: new Date('2026-11-27T00:00:00Z') });
    expect(again.changed).toBe(false);
  });

  it('among unsealed versions of one task_id the latest wins, whatever the append order', async () => {
    const v1 = outcome('x', { timestamp: '2026-11-20T00:00:00Z', result: 'failure' });
    const v2 = outcome('x', { timestamp: '2026-11-21T00:00:00Z', result: 'success' });
    const v2b = outcome('x', { timestamp: '2026-11-21T00:00:00Z', result: 'error' });
    const shas = new Set<string>();
    for (const order of [[v1, v2, v2b, v2], [v2, v2b, v1], [v2b, v1, v2]]) {
      const dir = tempDir();
      writeStore(dir, 'a.jsonl', order);
      const r = await collectOutcomes({ dir, now: NOW });
      expect(r.newRows).toBe(1);
      shas.add(r.shard!.sha256);
    }
    expect(shas.size).toBe(1);
  });

  it('commits the shard and the lock with subject `mlops(data): collect <shard>`', async () => {
    const repo = gitdir({ 'README.md': 'x\n', '.gitignore': '.mlops/\n' });
    writeStore(repo.dir, 'a.jsonl', [outcome(1), outcome(2)]);
    const r = await collectOutcomes({ dir: repo.dir, now: NOW, commit: true });
    expect(r.commit).toBe(repo.head());
    const name = r.shard!.path.split('/').pop();
    expect(repo.git('log', '-1', '--format=%s').trim()).toBe(`mlops(data): collect ${name}`);
    expect(repo.git('show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort()).toEqual(['datasets.lock', r.shard!.path].sort());
    expect(repo.status()).toBe('');
    const again = await collectOutcomes({ dir: repo.dir, now: NOW, commit: true });
    expect(again.commit).toBeNull();
    expect(repo.count()).toBe(2);
  });

  it('dry run writes nothing and leaves no staged file', async () => {
    const dir = tempDir();
    writeStore(dir, 'a.jsonl', [outcome(1)]);
    const r = await collectOutcomes({ dir, now: NOW, dryRun: true });
    expect(r).toMatchObject({ dryRun: true, newRows: 1, written: [] });
    expect(existsSync(join(dir, 'datasets.lock'))).toBe(false);
    expect(readdirSync(join(dir, '.mlops', 'tmp'))).toEqual([]);
  });

  it('refuses to collect on top of a modified shard', async () => {
    const dir = tempDir();
    writeStore(dir, 'a.jsonl', [outcome(1), outcome(2)]);
    const r = await collectOutcomes({ dir, now: NOW });
    appendFileSync(join(dir, r.shard!.path), '2026-11-20T00:00:00.000Z,evil,a.org,,x,success,,,,,,{}\n');
    await expect(collectOutcomes({ dir, now: NOW })).rejects.toMatchObject({ code: 'SHARD_MODIFIED' });
    rmSync(join(dir, r.shard!.path));
    await expect(collectOutcomes({ dir, now: NOW })).rejects.toMatchObject({ code: 'SHARD_MISSING' });
  });

  it('neutralises formula injection in the shard and keeps the value', async () => {
    const dir = tempDir();
    const evil = outcome(1, { failure_reason: '=cmd|\' /C calc\'!A0', action_attempted: '@SUM(1+1)' });
    writeStore(dir, 'a.jsonl', [evil]);
    const r = await collectOutcomes({ dir, now: NOW });
    const text = readFileSync(join(dir, r.shard!.path), 'utf8');
    expect(text).toContain(",'@SUM(1+1),");
    expect(text).toContain(",'=cmd|' /C calc'!A0,");
    const back = (await loadDatasetRecords({ dir, name: DS })).records[0]!;
    expect(back.failure_reason).toBe(evil.failure_reason);
    expect(back.action_attempted).toBe('@SUM(1+1)');
  });
});

describe('streaming collect = the pure planner', () => {
  const arbOutcome = fc
    .record({
      id: fc.integer({ min: 0, max: 30 }),
      minute: fc.integer({ min: 0, max: 5 }),
      result: fc.constantFrom('success', 'failure', 'error'),
      dom: fc.constantFrom('a.org', 'b.com', '=c.net'),
    })
    .map((o) => normalizeOutcome({ task_id: `t${o.id}`, domain: o.dom, action_attempted: 'x', result: o.result, timestamp: new Date(Date.UTC(2026, 0, 1, 0, o.minute)).toISOString() }));

  it('gives the same shard, lock and counts, across spills and previous shards', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbOutcome, { maxLength: 40 }),
        fc.array(arbOutcome, { maxLength: 40 }),
        fc.constantFrom<MergeStrategy>('append', 'dedupe'),
        async (first, second, strategy) => {
          const dir = tempDir();
          writeStore(dir, 'a.jsonl', first);
          const p1 = planCollect({ lock: emptyLock(), dataset: DS, mergeStrategy: strategy, sealedRows: [], outcomes: first, now: NOW });
          const r1 = await collectOutcomes({ dir, dataset: DS, mergeStrategy: strategy, now: NOW, chunkRows: 7 });
          expect(r1.shard).toEqual(p1.summary.shard);
          expect(r1.merged).toEqual(p1.summary.merged);
          writeStore(dir, 'b.jsonl', second);
          const sealedRows = p1.summary.shard ? [readFileSync(join(dir, p1.summary.shard.path), 'utf8').split(/(?<=\n)/).slice(1)] : [];
          const later = new Date('2026-11-23T00:00:00Z');
          const p2 = planCollect({ lock: p1.lock, dataset: DS, sealedRows, outcomes: [...first, ...second], now: later });
          const r2 = await collectOutcomes({ dir, dataset: DS, now: later, chunkRows: 5 });
          expect(r2.shard).toEqual(p2.summary.shard);
          expect(r2.merged).toEqual(p2.summary.merged);
          expect(r2.dropped).toEqual(p2.summary.dropped);
          expect({ sealed: r2.sealed, updates: r2.updates, newRows: r2.newRows }).toEqual({ sealed: p2.summary.sealed, updates: p2.summary.updates, newRows: p2.summary.newRows });
          const lockEdit = p2.edits.find((e) => e.path === 'datasets.lock');
          if (lockEdit) expect(readFileSync(join(dir, 'datasets.lock'), 'utf8')).toBe(lockEdit.content);
          // The merged set really is the canonical CSV of the merged records.
          const loaded = await loadDatasetRecords({ dir, name: DS }).catch(() => null);
          if (loaded) expect(sha(canonicalCsv(loaded.records))).toBe(loaded.sha256);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('prepareCollect can be discarded without leaving files', async () => {
    const dir = tempDir();
    writeStore(dir, 'a.jsonl', [outcome(1)]);
    const p = await prepareCollect({ dir, dataset: DS, now: NOW });
    expect(p.staged && existsSync(p.staged)).toBe(true);
    await discardCollect(p);
    expect(readdirSync(join(dir, '.mlops', 'tmp'))).toEqual([]);
    void outcomeToRow;
    void ([] as OutcomeRecord[]);
    void writeFileSync;
  });
});

describe('parallel store parsing', () => {
  it('worker threads give the same shard, counts and warnings as the main thread', async () => {
    const built = buildForChildren();
    const child = fileURLToPath(new URL('./fixtures/collect-child.mjs', import.meta.url));
    const make = () => {
      const dir = tempDir();
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) {
        lines.push(JSON.stringify(outcome(i % 2500, { url: `https://x.org/${'p'.repeat(i % 50)}` })));
        if (i % 997 === 0) lines.push('{"torn": tru');
        if (i % 1499 === 0) lines.push(JSON.stringify({ ...outcome(i), result: 'maybe' }));
      }
      writeStore(dir, 'a.jsonl', []);
      writeFileSync(join(dir, '.mlops', 'outcomes', 'a.jsonl'), lines.slice(0, 2000).join('\n') + '\n');
      writeFileSync(join(dir, '.mlops', 'outcomes', 'b.jsonl'), lines.slice(2000).join('\n') + '\n{"tail');
      return dir;
    };
    const run = (workers: number) => {
      const r = spawnSync(process.execPath, [child, built, make(), String(workers), String(64 * 1024)], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as { summary: { shard: { sha256: string }; dropped: unknown; read: number; truncated: number }; warnings: string[] };
    };
    const serial = run(0);
    const parallel = run(3);
    expect(serial.summary.read).toBe(3000);
    expect(parallel.summary.shard.sha256).toBe(serial.summary.shard.sha256);
    expect(parallel.summary.dropped).toEqual(serial.summary.dropped);
    expect(parallel.summary.truncated).toBe(1);
    expect(parallel.warnings).toEqual(serial.warnings);
    expect(serial.warnings.length).toBe(4 + 3 + 1); // torn lines, invalid results, the tail
  });
});

describe('collect of a store in time order', () => {
  // Sorted chunks go straight into the staged shard; a repeat or an out-of-order chunk found
  // later sends everything through the merge instead. Both must give canonicalCsv's bytes.
  const inOrder = Array.from({ length: 40 }, (_, i) => outcome(i, { timestamp: new Date(Date.UTC(2026, 10, 20) + Math.floor(i / 3) * 1000).toISOString() }));
  const cases: Array<[string, RawOutcomeList]> = [
    ['in order', inOrder],
    ['in order, a repeat at the end', [...inOrder, outcome(3, { result: 'error', timestamp: '2026-11-21T00:00:00Z' })]],
    ['in order, an exact copy at the end', [...inOrder, inOrder[5]!]],
    ['in order, an early row at the end', [...inOrder, outcome(999, { timestamp: '2026-11-01T00:00:00Z' })]],
    ['reversed', [...inOrder].reverse()],
  ];
  for (const [what, records] of cases) {
    it(`${what}: same shard as the pure planner, across spills`, async () => {
      for (const [chunkRows, rangeBytes] of [[4, 600], [7, 1500], [1000, undefined]] as const) {
        const dir = tempDir();
        writeStore(dir, 'a.jsonl', records);
        const p = planCollect({ lock: emptyLock(), dataset: DS, sealedRows: [], outcomes: records.map((r) => normalizeOutcome(r)), now: NOW });
        // Small ranges: the store arrives in many chunks, so the sort spills many runs.
        const prepared = await prepareCollect({ dir, dataset: DS, now: NOW, chunkRows, rangeBytes });
        await applyCollect(dir, prepared);
        const r = prepared.summary;
        expect(r.shard).toEqual(p.summary.shard);
        expect(r.dropped).toEqual(p.summary.dropped);
        expect(readFileSync(join(dir, r.shard!.path), 'utf8')).toBe(p.edits[0]!.content);
        expect(readdirSync(join(dir, '.mlops', 'tmp'))).toEqual([]);
      }
    });
  }
});

type RawOutcomeList = ReturnType<typeof outcome>[];

describe('collect sort order', () => {
  it('orders task_ids by code point across spilled runs, like canonicalCsv', async () => {
    const ids = ['b', 'a', '\uffff', '\u{1F600}', '"q,uote"', '=sum', "'x", 'é', 'A'];
    const records = ids.flatMap((id, i) => [
      outcome(id, { timestamp: '2026-11-20T00:00:00Z' }),
      outcome(`${id}-${i}`, { timestamp: `2026-11-20T00:00:0${i % 3}Z` }),
    ]);
    for (const chunkRows of [2, 3, 1000]) {
      const dir = tempDir();
      writeStore(dir, 'a.jsonl', [...records].reverse());
      const r = await collectOutcomes({ dir, now: NOW, chunkRows });
      expect(readFileSync(join(dir, r.shard!.path), 'utf8')).toBe(canonicalCsv(records.map((x) => normalizeOutcome(x))));
    }
  });
});
