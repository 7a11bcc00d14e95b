// Builders for registry tests: a git repository holding a registry, an in-process CLI runner,
// and a shortcut to register versions with small artifacts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { openContext, type Context } from '../../src/app/context.js';
import { registerVersion, type RegisterOptions } from '../../src/app/register.js';
import { emptyDeployments, serializeDeployments } from '../../src/registry/deployments.js';
import { newModelDoc, serializeModel } from '../../src/registry/manifest.js';
import { gitdir, type TestRepo } from './gitdir.js';

export const SCHEMA_TEXT = `apiVersion: mlops/v1
kind: FeatureSchema
version: schema_v1.0
features:
  - name: execution_hint
    source: response_time_ms
    transform: numeric
`;

/** A repository with an initialised registry for `model` (config, schema, model, deployments). */
export function registryRepo(opts: { model?: string; config?: Record<string, unknown> } = {}): TestRepo {
  const model = opts.model ?? 'backlink-success';
  return gitdir({
    'mlops.config.json': JSON.stringify({ model, forge: { type: 'local', base: 'main' }, ...opts.config }, null, 2) + '\n',
    'registry/schemas/schema_v1.0.yaml': SCHEMA_TEXT,
    [`registry/${model}/model.yaml`]: serializeModel(newModelDoc({ name: model, schemaVersion: 'schema_v1.0' })),
    [`registry/${model}/deployments.yaml`]: serializeDeployments(emptyDeployments(model)),
    '.gitignore': '.mlops/\n',
    'data/train.csv': 'task_id,result\nt1,success\nt2,failure\n',
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

/** Runs `mlops <argv>` in-process against `dir`. */
export async function cli(dir: string, ...argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { ...process.env, NO_COLOR: '1' },
    cwd: dir,
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

let clock = Date.parse('2026-11-29T02:00:00Z');
/** A context whose clock advances one minute per call, so timestamps differ and are predictable. */
export async function ctxOf(dir: string): Promise<Context> {
  return openContext({ dir, now: () => new Date((clock += 60_000)) });
}

/** Registers a version with a small distinct artifact; returns its version. */
export async function registerFake(dir: string, opts: Partial<RegisterOptions> & { seed?: string } = {}): Promise<string> {
  const ctx = await ctxOf(dir);
  const bytes = Buffer.from(`fake-onnx:${opts.seed ?? Math.random()}`);
  const r = await registerVersion(ctx, {
    model: 'backlink-success',
    artifact: { name: 'model.onnx', bytes, sha256: (await import('../../src/util/hash.js')).sha256Hex(bytes) },
    dataset: 'data/train.csv',
    metrics: { auc: 0.8 },
    ...opts,
  });
  return r.version;
}

export function readDeployments(dir: string, model = 'backlink-success'): string {
  return readFileSync(join(dir, `registry/${model}/deployments.yaml`), 'utf8');
}
