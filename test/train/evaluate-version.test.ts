import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectOutcomes } from '../../src/app/data-collect.js';
import { trainFromDataset } from '../../src/app/train.js';
import { evaluateVersion } from '../../src/app/evaluate.js';
import { openContext } from '../../src/app/context.js';
import { registerVersion } from '../../src/app/register.js';
import { synthOutcomes } from '../../src/data/synth.js';
import { starterFeatureSchema } from '../../src/data/features.js';
import { emptyDeployments, serializeDeployments } from '../../src/registry/deployments.js';
import { newModelDoc, serializeModel } from '../../src/registry/manifest.js';
import { gitdir } from '../helpers/gitdir.js';
import { cli } from '../helpers/registry.js';

const M = 'backlink-success';
const DS = 'backlink-outcomes';

describe('evaluateVersion', () => {
  it('scores a registered version and production on the same test split with their own features.json', async () => {
    const t = gitdir({
      'mlops.config.json': JSON.stringify({ model: M, forge: { type: 'local', base: 'main' } }, null, 2) + '\n',
      'registry/schemas/schema_v1.0.yaml': starterFeatureSchema('schema_v1.0'),
      [`registry/${M}/model.yaml`]: serializeModel(newModelDoc({ name: M, schemaVersion: 'schema_v1.0' })),
      [`registry/${M}/deployments.yaml`]: serializeDeployments(emptyDeployments(M)),
      '.gitignore': '.mlops/\n',
    });
    const records = synthOutcomes({ seed: 3, rows: 3000, start: '2026-10-01T00:00:00Z', end: '2026-11-20T00:00:00Z' });
    mkdirSync(join(t.dir, '.mlops', 'outcomes'), { recursive: true });
    writeFileSync(join(t.dir, '.mlops', 'outcomes', 'a.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
    await collectOutcomes({ dir: t.dir, now: new Date('2026-11-22T02:00:00Z'), commit: true });

    const trainAndRegister = async (trainer: 'logistic' | 'gbdt', out: string) => {
      const r = await trainFromDataset({ dir: t.dir, dataset: DS, schemaVersion: 'schema_v1.0', out: join(t.dir, '.mlops', out), trainer, params: trainer === 'gbdt' ? { trees: 30 } : {} });
      const reg = await registerVersion(await openContext({ dir: t.dir }), {
        model: M,
        artifact: r.files.model,
        sidecars: [r.files.features],
        dataset: DS,
        metrics: r.files.metrics,
        training: { trainer, params: r.params, seed: r.seed },
      });
      return { r, version: reg.version };
    };
    const first = await trainAndRegister('logistic', 'a');
    expect((await cli(t.dir, 'promote', `${M}@${first.version}`)).code).toBe(0);
    const second = await trainAndRegister('gbdt', 'b');

    const e = await evaluateVersion({ dir: t.dir, model: M, version: second.version });
    expect(e.dataset).toMatchObject({ name: DS, testRows: second.r.splits.test });
    expect(e.target).toEqual({ version: second.version, metrics: second.r.metrics });
    expect(e.production).toEqual({ version: first.version, metrics: first.r.metrics });
    const self = await evaluateVersion({ dir: t.dir, model: M, version: first.version });
    expect(self.production).toBeNull();
    await expect(evaluateVersion({ dir: t.dir, model: M, version: 'v9.9.9' })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });
});
