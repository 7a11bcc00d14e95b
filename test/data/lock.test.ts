import { readFileSync, rmSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectOutcomes } from '../../src/app/data-collect.js';
import { dataStatus } from '../../src/app/data-status.js';
import { verifyData } from '../../src/app/data-verify.js';
import { loadDatasetRecords } from '../../src/data/dataset.js';
import { parseLock, planLockUpdate, serializeLock, emptyLock, type DatasetLock } from '../../src/data/lock.js';
import { tempDir } from '../helpers/gitdir.js';
import { outcome, writeStore } from './helpers/store.js';

const H = (c: string) => c.repeat(64);
const DS = 'backlink-outcomes';

const sample: DatasetLock = {
  apiVersion: 'mlops/v1',
  kind: 'DatasetLock',
  datasets: {
    [DS]: {
      schema: 'outcome_v1',
      merge_strategy: 'append',
      shards: [
        { path: `datasets/${DS}/2026-11-22-aaaaaaaa.csv`, sha256: H('a'), bytes: 10, rows: 3, created_at: '2026-11-22T02:00:04Z' },
        { path: `datasets/${DS}/2026-11-29-bbbbbbbb.csv`, sha256: H('b'), bytes: 20, rows: 4, created_at: '2026-11-29T02:00:04Z' },
      ],
      merged: { sha256: H('c'), rows: 7 },
    },
  },
};

describe('datasets.lock', () => {
  it('round-trips through its canonical text', () => {
    const text = serializeLock(sample);
    expect(parseLock(text)).toEqual(sample);
    expect(serializeLock(parseLock(text))).toBe(text);
    expect(text).toContain('merge_strategy: append');
  });

  it('plans an update without mutating its input', () => {
    const before = JSON.stringify(sample);
    const shard = { path: `datasets/${DS}/2026-12-06-dddddddd.csv`, sha256: H('d'), bytes: 5, rows: 1, created_at: '2026-12-06T02:00:00Z' };
    const next = planLockUpdate(sample, { dataset: DS, schema: 'outcome_v1', mergeStrategy: 'append', shard, merged: { sha256: H('e'), rows: 8 } });
    expect(JSON.stringify(sample)).toBe(before);
    expect(next.datasets[DS]!.shards.map((s) => s.path)).toEqual([...sample.datasets[DS]!.shards.map((s) => s.path), shard.path]);
    expect(() => planLockUpdate(next, { dataset: DS, schema: 'outcome_v1', mergeStrategy: 'append', shard, merged: { sha256: H('e'), rows: 8 } })).toThrow(
      expect.objectContaining({ code: 'SHARD_EXISTS' }),
    );
    expect(() => planLockUpdate(emptyLock(), { dataset: 'Bad Name', schema: 'x', mergeStrategy: 'append', shard: null, merged: { sha256: H('e'), rows: 0 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  const text = serializeLock(sample);
  it.each([
    ['an unknown key', text.replace('merge_strategy: append', 'merge_strategy: append\n    extra: 1'), 'unknown key "extra"'],
    ['an unknown strategy', text.replace('merge_strategy: append', 'merge_strategy: newest'), 'must be one of'],
    ['a short hash', text.replace(H('a'), 'abc'), 'sha256'],
    ['a shard outside its dataset folder', text.replaceAll(`datasets/${DS}/2026-11-22`, 'datasets/other/2026-11-22'), 'is not in datasets/backlink-outcomes/'],
    ['a path not naming its hash', text.replace('2026-11-22-aaaaaaaa', '2026-11-22-abababab'), 'first 8 hex'],
    ['a listed-twice shard', text.replace('2026-11-29-bbbbbbbb', '2026-11-22-aaaaaaaa').replace(H('b'), H('a')), 'listed twice'],
    ['merged rows that do not add up', text.replace('rows: 7', 'rows: 8'), 'does not fit'],
    ['a negative byte count', text.replace('bytes: 10', 'bytes: -1'), 'bytes'],
    ['the wrong kind', text.replace('kind: DatasetLock', 'kind: Lock'), 'kind'],
  ])('refuses %s with LOCK_INVALID', (_, bad, message) => {
    expect(() => parseLock(bad)).toThrow(expect.objectContaining({ code: 'LOCK_INVALID', message: expect.stringContaining(message) }));
  });

  it('refuses a YAML alias bomb without hanging', () => {
    const bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\n' + Array.from({ length: 9 }, (_, i) => `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(9).fill('*' + (i ? 'bcdefghij'[i - 1] : 'a')).join(',')}]`).join('\n') + '\n';
    expect(() => parseLock(bomb)).toThrow(expect.objectContaining({ code: expect.stringMatching(/YAML_ALIAS_LIMIT|LOCK_INVALID/) }));
  });
});

describe('data status and verify', () => {
  async function collected() {
    const dir = tempDir();
    writeStore(dir, 'a.jsonl', Array.from({ length: 12 }, (_, i) => outcome(i)));
    const first = await collectOutcomes({ dir, now: new Date('2026-11-22T02:00:00Z') });
    writeStore(dir, 'b.jsonl', Array.from({ length: 5 }, (_, i) => outcome(100 + i)));
    const second = await collectOutcomes({ dir, now: new Date('2026-11-29T02:00:00Z') });
    return { dir, first: first.shard!, second: second.shard! };
  }

  it('reports a clean tree as clean and ok', async () => {
    const { dir } = await collected();
    const s = await dataStatus({ dir });
    expect(s.clean).toBe(true);
    expect(s.datasets).toEqual([
      expect.objectContaining({ name: DS, untracked: [], new: { rows: 0, updates: 0, conflicts: 0, stale: 0 }, shards: [expect.objectContaining({ state: 'locked' }), expect.objectContaining({ state: 'locked' })] }),
    ]);
    const v = await verifyData({ dir });
    expect(v).toMatchObject({ ok: true, checked: 2, problems: [] });
  });

  it('shows new outcomes and untracked shard files', async () => {
    const { dir } = await collected();
    writeStore(dir, 'c.jsonl', [outcome(500), outcome(501), outcome(501), outcome(3, { result: 'error' })]);
    writeFileSync(join(dir, 'datasets', DS, 'stray.csv'), 'x\n');
    const s = await dataStatus({ dir });
    expect(s.clean).toBe(false);
    expect(s.datasets[0]).toMatchObject({ new: { rows: 2, conflicts: 1 }, untracked: [`datasets/${DS}/stray.csv`] });
    expect(s.store).toMatchObject({ files: 3, records: 21 });
  });

  it('finds a shard edited after locking and one whose file is gone', async () => {
    const { dir, first, second } = await collected();
    appendFileSync(join(dir, first.path), '2026-11-20T00:00:00.000Z,x,a.org,,y,success,,,,,,{}\n');
    rmSync(join(dir, second.path));
    const v = await verifyData({ dir });
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => [p.code, p.path])).toEqual([
      ['SHARD_MODIFIED', first.path],
      ['SHARD_MISSING', second.path],
    ]);
    const s = await dataStatus({ dir });
    expect(s.datasets[0]!.shards.map((x) => x.state)).toEqual(['modified', 'missing']);
    expect(s.datasets[0]!.new).toBeNull();
    await expect(loadDatasetRecords({ dir, name: DS })).rejects.toMatchObject({ code: expect.stringMatching(/SHARD_MODIFIED|SHARD_MISSING/) });
  });

  it('sees an edit that keeps the size and mtime only in verify (status trusts its cache like dvc)', async () => {
    const { dir, first } = await collected();
    await dataStatus({ dir }); // fills the cache
    const p = join(dir, first.path);
    const { statSync, utimesSync } = await import('node:fs');
    const st = statSync(p);
    const body = readFileSync(p, 'utf8');
    writeFileSync(p, body.replace('success', 'failure').replace('failure', 'success').replace(/guest_post/, 'guest_pots'));
    utimesSync(p, st.atime, st.mtime);
    expect((await verifyData({ dir })).problems.map((x) => x.code)).toEqual(['SHARD_MODIFIED']);
    expect((await dataStatus({ dir, useCache: false })).datasets[0]!.shards[0]!.state).toBe('modified');
  });

  it('reports a merged hash edited by hand', async () => {
    const { dir } = await collected();
    const lockPath = join(dir, 'datasets.lock');
    const lock = parseLock(readFileSync(lockPath, 'utf8'));
    lock.datasets[DS]!.merged.sha256 = H('f');
    writeFileSync(lockPath, serializeLock(lock));
    expect((await verifyData({ dir })).problems.map((p) => p.code)).toEqual(['DATASET_MERGED_MISMATCH']);
    await expect(loadDatasetRecords({ dir, name: DS })).rejects.toMatchObject({ code: 'DATASET_MERGED_MISMATCH' });
  });

  it('reports an unreadable lock as one LOCK_INVALID problem', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'datasets.lock'), 'apiVersion: mlops/v1\nkind: DatasetLock\n');
    const v = await verifyData({ dir });
    expect(v).toMatchObject({ ok: false, problems: [expect.objectContaining({ code: 'LOCK_INVALID', path: 'datasets.lock' })] });
  });

  it('says which dataset is unknown', async () => {
    const { dir } = await collected();
    await expect(loadDatasetRecords({ dir, name: 'nope' })).rejects.toMatchObject({ code: 'DATASET_NOT_FOUND' });
  });
});
