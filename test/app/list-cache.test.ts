// `mlops list` reads manifests through the summaries cache (.mlops/cache/summaries.json): it must
// show exactly what the files say, whether the cache is cold, warm, stale or damaged.
import { describe, it, expect } from 'vitest';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryRepo, registerFake, cli } from '../helpers/registry.js';

const M = 'backlink-success';

/** Dates every manifest a minute back, so that the cache trusts them (outside its racy window). */
function age(dir: string, versions: string[], secondsAgo = 60): void {
  const t = Date.now() / 1000 - secondsAgo;
  for (const v of versions) utimesSync(join(dir, `registry/${M}/versions/${v}/manifest.yaml`), t, t);
}

const aucs = async (dir: string) => Object.fromEntries((await cli(dir, 'list', '--json')).json().map((r: { version: string; metrics: { auc: number } }) => [r.version, r.metrics.auc]));

describe('mlops list through the summaries cache', () => {
  it('serves unchanged manifests from the cache and re-reads a manifest edited in place', async () => {
    const t = registryRepo();
    const versions = [await registerFake(t.dir, { seed: 'a', metrics: { auc: 0.81 } }), await registerFake(t.dir, { seed: 'b', metrics: { auc: 0.82 } })];
    age(t.dir, versions);
    expect(await aucs(t.dir)).toEqual({ [versions[0]!]: 0.81, [versions[1]!]: 0.82 });
    const cacheFile = join(t.dir, '.mlops/cache/summaries.json');
    const written = statSync(cacheFile).mtimeMs;
    // A second run changes nothing, so the cache is not rewritten.
    expect(await aucs(t.dir)).toEqual({ [versions[0]!]: 0.81, [versions[1]!]: 0.82 });
    expect(statSync(cacheFile).mtimeMs).toBe(written);

    // An edit in place (as an editor saving the file does), dated in the past too.
    const file = join(t.dir, `registry/${M}/versions/${versions[0]}/manifest.yaml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('auc: 0.81', 'auc: 0.7'));
    age(t.dir, [versions[0]!], 30);
    expect(await aucs(t.dir)).toEqual({ [versions[0]!]: 0.7, [versions[1]!]: 0.82 });
  });

  it('lists correctly over a damaged cache file, and refuses a manifest whose version differs from its folder', async () => {
    const t = registryRepo();
    const v = await registerFake(t.dir, { seed: 'c', metrics: { auc: 0.83 } });
    age(t.dir, [v]);
    await cli(t.dir, 'list', '--json');
    const cacheFile = join(t.dir, '.mlops/cache/summaries.json');
    const text = readFileSync(cacheFile, 'utf8');
    writeFileSync(cacheFile, text.slice(0, text.length - 20));
    expect(await aucs(t.dir)).toEqual({ [v]: 0.83 });

    const file = join(t.dir, `registry/${M}/versions/${v}/manifest.yaml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace(`version: ${v}`, 'version: v9.9.9'));
    age(t.dir, [v], 30);
    const r = await cli(t.dir, 'list', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe('VERSION_FOLDER_MISMATCH');
  });
});
