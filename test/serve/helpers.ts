// Builders for serving tests: real models (trained here, exported to ONNX with their fitted
// feature state), a registry repository holding them, and a Prometheus text parser.
import { createHash } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureTestIdentity, gitdir, repoAt, tempDir, type TestRepo } from '../helpers/gitdir.js';
import { ctxOf } from '../helpers/registry.js';
import { registerVersion } from '../../src/app/register.js';
import { canaryStart, promote } from '../../src/app/stage-ops.js';
import { emptyDeployments, serializeDeployments } from '../../src/registry/deployments.js';
import { newModelDoc, serializeModel } from '../../src/registry/manifest.js';
import { featurizeMany, fitFeaturizer, labelsOf, parseFeatureSchema, serializeFittedState } from '../../src/data/features.js';
import type { OutcomeRecord } from '../../src/data/outcome.js';
import { trainLogistic } from '../../src/train/logistic.js';
import { trainGbdt } from '../../src/train/gbdt.js';
import { exportOnnx } from '../../src/train/onnx-export.js';

export const M = 'backlink-success';

export const SERVE_SCHEMA = `apiVersion: mlops/v1
kind: FeatureSchema
version: schema_v1.0
features:
  - name: domain_rate
    source: domain
    transform: target_rate
    smoothing: 10
  - name: action
    source: action_attempted
    transform: one_hot
    categories: [blog_comment, guest_post, forum_post]
    unknown: column
  - name: domain_authority
    source: features.domain_authority
    transform: numeric
    required: true
    clip: [0, 100]
  - name: hour
    source: timestamp
    transform: hour
`;

const ACTIONS = ['blog_comment', 'guest_post', 'forum_post'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Outcome records with a known signal (authority and action), seeded. */
export function sampleOutcomes(n: number, seed = 1): OutcomeRecord[] {
  const u = rng(seed);
  const out: OutcomeRecord[] = [];
  for (let i = 0; i < n; i++) {
    const da = Math.floor(u() * 100);
    const action = ACTIONS[i % 3]!;
    const logit = 0.06 * (da - 50) + (action === 'guest_post' ? 1 : -0.3);
    const success = u() < 1 / (1 + Math.exp(-logit));
    out.push({
      task_id: `t-${seed}-${i}`,
      domain: `d${i % 40}.example.org`,
      url: null,
      action_attempted: action,
      result: success ? 'success' : 'failure',
      failure_reason: null,
      execution_time: null,
      model: null,
      model_version: null,
      response_time_ms: null,
      timestamp: new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString(),
      features: { domain_authority: da },
    });
  }
  return out;
}

export interface Artifact {
  onnx: Buffer;
  features: Buffer;
}

const cache = new Map<string, Artifact>();

/** A trained model and its features.json; 'logistic' and 'gbdt' give different predictions. */
export function trainedArtifact(kind: 'logistic' | 'gbdt' = 'logistic', seed = 1): Artifact {
  const key = `${kind}:${seed}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const schema = parseFeatureSchema(SERVE_SCHEMA);
  const records = sampleOutcomes(800, seed);
  const state = fitFeaturizer(schema, records);
  const { X, n, f } = featurizeMany(schema, state, records);
  const train = { X, n, f, y: labelsOf(schema, records) };
  const model = kind === 'logistic' ? trainLogistic({ train }) : trainGbdt({ train, params: { trees: 20, depth: 3 }, seed });
  const onnx = Buffer.from(exportOnnx(model, { featureNames: state.names, schemaVersion: schema.version, seed }));
  const a = { onnx, features: Buffer.from(serializeFittedState(state)) };
  cache.set(key, a);
  return a;
}

export interface SuiteRepo extends TestRepo {
  /** Deletes the repository (suite repositories outlive single tests, so they clean up in afterAll). */
  remove(): void;
}

/**
 * A repository that lives for a whole suite: gitdir() deletes its repositories after each test,
 * which a server started in beforeAll must not see.
 */
export function suiteRepo(files: Record<string, string | Buffer>): SuiteRepo {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mlops-serve-')));
  const repo: SuiteRepo = { ...repoAt(dir), remove: () => rmSync(dir, { recursive: true, force: true }) };
  repo.git('init', '-q', '-b', 'main');
  configureTestIdentity(repo);
  repo.commit('initial', files);
  return repo;
}

function servingFiles(config: Record<string, unknown> = {}): Record<string, string> {
  return {
    'mlops.config.json': JSON.stringify({ model: M, forge: { type: 'local', base: 'main' }, ...config }, null, 2) + '\n',
    'registry/schemas/schema_v1.0.yaml': SERVE_SCHEMA,
    [`registry/${M}/model.yaml`]: serializeModel(newModelDoc({ name: M, schemaVersion: 'schema_v1.0' })),
    [`registry/${M}/deployments.yaml`]: serializeDeployments(emptyDeployments(M)),
    '.gitignore': '.mlops/\n',
    'data/train.csv': 'task_id,result\nt1,success\nt2,failure\n',
  };
}

/** A registry repository with the serving schema and no version yet (deleted after the test). */
export function servingRepo(opts: { config?: Record<string, unknown> } = {}): TestRepo {
  return gitdir(servingFiles(opts.config));
}

/** The same, living until remove() (for servers started in beforeAll). */
export function servingSuiteRepo(opts: { config?: Record<string, unknown> } = {}): SuiteRepo {
  return suiteRepo(servingFiles(opts.config));
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Registers a version with its ONNX artifact and features.json sidecar; returns the version. */
export async function registerArtifact(dir: string, a: Artifact, opts: { dataset?: string; trainer?: 'logistic' | 'gbdt' } = {}): Promise<string> {
  const ctx = await ctxOf(dir);
  const r = await registerVersion(ctx, {
    model: M,
    artifact: { name: 'model.onnx', bytes: a.onnx, sha256: sha(a.onnx) },
    sidecars: [{ name: 'features.json', bytes: a.features, sha256: sha(a.features) }],
    dataset: opts.dataset ?? 'data/train.csv',
    training: { trainer: opts.trainer ?? 'logistic' },
    metrics: { auc: 0.8 },
  });
  return r.version;
}

export async function promoteVersion(dir: string, version: string, force = false): Promise<string> {
  const r = await promote(await ctxOf(dir), { model: M, version, force });
  return r.applied!.commit;
}

export async function startCanary(dir: string, version: string, weight: number): Promise<string> {
  const r = await canaryStart(await ctxOf(dir), { model: M, version, weight });
  return r.applied!.commit;
}

/** v1.0.0 (logistic) in production and v1.1.0 (gbdt) as canary at `weight`. */
export async function twoVersionRepo<T extends TestRepo = TestRepo>(weight = 0.5, t: T = servingRepo() as T): Promise<T> {
  await registerArtifact(t.dir, trainedArtifact('logistic'));
  await promoteVersion(t.dir, 'v1.0.0');
  await registerArtifact(t.dir, trainedArtifact('gbdt'), { dataset: 'mlops.config.json', trainer: 'gbdt' });
  await startCanary(t.dir, 'v1.1.0', weight);
  return t;
}

/**
 * Registry operations cost about a second each here, so a suite builds a state once and each
 * test works on a `git clone` of it (a real repository with the same history and tags).
 */
export function repoTemplate(build: (t: SuiteRepo) => Promise<unknown>): { clone(): Promise<TestRepo>; remove(): void } {
  let template: Promise<SuiteRepo> | null = null;
  return {
    async clone() {
      template ??= (async () => {
        const t = servingSuiteRepo();
        await build(t);
        return t;
      })();
      const src = await template;
      const repo = repoAt(tempDir('mlops-serve-clone-'));
      repo.git('clone', '-q', src.dir, '.');
      configureTestIdentity(repo);
      return repo;
    },
    remove() {
      void template?.then((t) => t.remove());
    },
  };
}

export function record(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: `req-${i}`,
    domain: `site-${i}.example.org`,
    action_attempted: ACTIONS[i % 3],
    timestamp: '2026-11-29T10:00:00Z',
    features: { domain_authority: (i * 37) % 100 },
    ...extra,
  };
}

export function outcome(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: `out-${i}`,
    domain: `site-${i}.example.org`,
    action_attempted: 'blog_comment',
    result: i % 4 === 0 ? 'failure' : 'success',
    model: M,
    model_version: 'v1.0.0',
    response_time_ms: 3 + (i % 7),
    timestamp: '2026-11-29T10:00:00Z',
    ...extra,
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = any>(): T;
}

/** One HTTP request with node:http (no keep-alive, so every test sees its own connection). */
export function http(url: string, opts: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'), headers: { connection: 'close', ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  http(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

// ---- Prometheus text exposition format (0.0.4) ----

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"(?:,|(?=\\})))*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const LABEL_PAIR = new RegExp(`(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`, 'g');

/** Parses the text format strictly: every line must be a comment, HELP/TYPE or a valid sample. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  text.slice(0, -1).split('\n').forEach((line, i) => {
    if (line === '') return;
    if (line.startsWith('# HELP ')) {
      const m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
      if (!m) throw new Error(`line ${i + 1}: bad HELP: ${line}`);
      help.set(m[1]!, m[2]!);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
      if (!m) throw new Error(`line ${i + 1}: bad TYPE: ${line}`);
      if (types.has(m[1]!)) throw new Error(`line ${i + 1}: second TYPE for ${m[1]}`);
      types.set(m[1]!, m[2]!);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(LABEL_PAIR)) {
      if (p[1]! in labels) throw new Error(`line ${i + 1}: label ${p[1]} twice`);
      labels[p[1]!] = p[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const raw = m[3]!;
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
    const special = /^([+-]?)(inf|nan)$/i.exec(raw);
    const value = special ? (special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(raw);
    if (!special && (raw.trim() === '' || Number.isNaN(value))) throw new Error(`line ${i + 1}: bad value ${raw}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`line ${i + 1}: sample ${m[1]} has no TYPE`);
    samples.push({ name: m[1]!, labels, value });
  });
  return { types, help, samples };
}

export function sampleValue(e: Exposition, name: string, labels: Record<string, string>): number | undefined {
  return e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
