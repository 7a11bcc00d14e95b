// This repository is itself a live registry (SPEC 2): its own registry must verify.
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { cli } from '../helpers/registry.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe("the repository's own registry", () => {
  it('passes mlops verify, with backlink-success in production', async () => {
    const r = await cli(root, 'verify', '--json');
    expect(r.json().problems).toEqual([]);
    expect(r.code).toBe(0);
    const get = (await cli(root, 'get', 'backlink-success', '--json')).json();
    expect(get.version).toMatch(/^v\d+\.\d+\.\d+$/);
    const show = (await cli(root, 'show', `backlink-success@${get.version}`, '--json')).json();
    expect(show.manifest.metrics.auc).toBeGreaterThanOrEqual(0.8);
    expect(show.manifest.dataset).toMatchObject({ name: 'backlink-outcomes', shards: 1 });
  });
});
