// Shared by the serving benchmarks: a temporary registry repository with a real model in
// production (v1.0.0) and a canary (v1.1.0), both GBDT of the same size (100 trees, depth 6) so
// that whichever version a key routes to costs the same as the anchor's model. Built with the
// project's own trainers, ONNX export and registry commands from dist/ (`npm run build` first).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openContext } from '../dist/app/context.js';
import { registerVersion } from '../dist/app/register.js';
import { canaryStart, promote } from '../dist/app/stage-ops.js';
import { emptyDeployments, serializeDeployments } from '../dist/registry/deployments.js';
import { newModelDoc, serializeModel } from '../dist/registry/manifest.js';
import { featurizeMany, fitFeaturizer, labelsOf, parseFeatureSchema, serializeFittedState } from '../dist/data/features.js';
import { trainLogistic } from '../dist/train/logistic.js';
import { trainGbdt } from '../dist/train/gbdt.js';
import { exportOnnx } from '../dist/train/onnx-export.js';

export const MODEL = 'backlink-success';

export const SCHEMA = `apiVersion: mlops/v1
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
    clip: [0, 100]
  - name: outbound_links
    source: features.outbound_links
    transform: log1p
  - name: tld
    source: domain
    transform: tld
  - name: hour
    source: timestamp
    transform: hour
    encoding: cyclic
`;

const ACTIONS = ['blog_comment', 'guest_post', 'forum_post'];

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function outcomes(n, seed) {
  const u = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const da = Math.floor(u() * 100);
    const action = ACTIONS[i % 3];
    const p = 1 / (1 + Math.exp(-(0.05 * (da - 50) + (action === 'guest_post' ? 0.8 : -0.2))));
    return {
      task_id: `t-${seed}-${i}`,
      domain: `d${i % 200}.example.${['org', 'com', 'net'][i % 3]}`,
      url: null,
      action_attempted: action,
      result: u() < p ? 'success' : 'failure',
      failure_reason: null,
      execution_time: null,
      model: null,
      model_version: null,
      response_time_ms: null,
      timestamp: new Date(Date.UTC(2026, 10, 1) + i * 600_000).toISOString(),
      features: { domain_authority: da, outbound_links: Math.floor(u() * 500) },
    };
  });
}

function artifacts(kind, seed) {
  const schema = parseFeatureSchema(SCHEMA);
  const records = outcomes(20_000, seed);
  const state = fitFeaturizer(schema, records);
  const { X, n, f } = featurizeMany(schema, state, records);
  const train = { X, n, f, y: labelsOf(schema, records) };
  const model = kind === 'logistic' ? trainLogistic({ train }) : trainGbdt({ train, params: { trees: 100, depth: 6 }, seed });
  return {
    onnx: Buffer.from(exportOnnx(model, { featureNames: state.names, schemaVersion: schema.version, seed })),
    features: Buffer.from(serializeFittedState(state)),
  };
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

export function git(dir, ...args) {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.test' },
  });
}

/** Builds the registry; returns its folder and a cleanup function. */
export async function buildFixture({ canaryWeight = 0.1 } = {}) {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mlops-bench-serve-')));
  const files = {
    'mlops.config.json': JSON.stringify({ model: MODEL, forge: { type: 'local', base: 'main' } }, null, 2) + '\n',
    'registry/schemas/schema_v1.0.yaml': SCHEMA,
    [`registry/${MODEL}/model.yaml`]: serializeModel(newModelDoc({ name: MODEL, schemaVersion: 'schema_v1.0' })),
    [`registry/${MODEL}/deployments.yaml`]: serializeDeployments(emptyDeployments(MODEL)),
    '.gitignore': '.mlops/\n',
    'data/a.csv': 'task_id,result\nt1,success\n',
    'data/b.csv': 'task_id,result\nt2,failure\n',
  };
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'bench');
  git(dir, 'config', 'user.email', 'bench@example.test');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'config', 'tag.gpgsign', 'false');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  const register = async (a, dataset, trainer) => {
    const ctx = await openContext({ dir });
    const r = await registerVersion(ctx, {
      model: MODEL,
      artifact: { name: 'model.onnx', bytes: a.onnx, sha256: sha(a.onnx) },
      sidecars: [{ name: 'features.json', bytes: a.features, sha256: sha(a.features) }],
      dataset,
      training: { trainer },
    });
    return r.version;
  };
  const v1 = await register(artifacts('gbdt', 1), 'data/a.csv', 'gbdt');
  await promote(await openContext({ dir }), { model: MODEL, version: v1 });
  const v2 = await register(artifacts('gbdt', 2), 'data/b.csv', 'gbdt');
  await canaryStart(await openContext({ dir }), { model: MODEL, version: v2, weight: canaryWeight });
  return { dir, production: v1, canary: v2, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A request body: one raw record; `i` varies the domain, so routing and features vary too. */
export function requestBody(i) {
  return JSON.stringify({
    task_id: `bench-${i}`,
    domain: `d${i % 200}.example.${['org', 'com', 'net'][i % 3]}`,
    action_attempted: ACTIONS[i % 3],
    timestamp: '2026-11-29T10:00:00Z',
    features: { domain_authority: (i * 37) % 100, outbound_links: (i * 13) % 500 },
  });
}

/** A wrk Lua script that POSTs `count` different bodies in turn to `path`. */
export function wrkScript(path, count = 256) {
  const bodies = Array.from({ length: count }, (_, i) => `[[${requestBody(i)}]]`).join(',\n');
  return `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {
${bodies}
}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "${path}", nil, bodies[(i % ${count}) + 1])
end
`;
}

export function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a server script as a child process (pinned to CPU 0 with taskset when available) and
 * resolves with its URL once it prints `listening <url>`.
 */
export function startChild(script, args, { cpu = '0' } = {}) {
  const pin = hasCommand('taskset') ? ['taskset', ['-c', cpu, process.execPath, script, ...args]] : [process.execPath, [script, ...args]];
  const child = spawn(pin[0], pin[1], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], stop: () => stopChild(child) });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  });
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds (user + system, all threads) a process has used, from /proc; null elsewhere.
 * On a shared machine wall-clock throughput swings with other people's load, while CPU time per
 * request measures what the server itself costs.
 */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
  } catch {
    return null;
  }
}

export function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** Runs wrk (pinned to CPU 1) and returns requests/s, latency percentiles and error counts. */
export function runWrk(url, script, { threads = 1, connections = 16, seconds = 10 } = {}) {
  const scriptPath = join(tmpdir(), `mlops-bench-${process.pid}-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(scriptPath, script);
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-s', scriptPath, url];
  const cmd = hasCommand('taskset') ? ['taskset', ['-c', '1', 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], cmd[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      rmSync(scriptPath, { force: true });
      if (code !== 0) return reject(new Error(`wrk failed (${code}):\n${out}`));
      resolve(parseWrk(out));
    });
  });
}

function toMs(text) {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

export function parseWrk(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const pct = {};
  for (const q of ['50', '75', '90', '99']) {
    const m = new RegExp(`\\s${q}%\\s+(\\S+)`).exec(out);
    if (m) pct[q] = toMs(m[1]);
  }
  return { rps, requests, non2xx, socketErrors, latencyMs: pct, raw: out };
}
