// Registry reads at scale (issue: a registry of 1,000 versions and 10,000 commits).
// Builds the repository with `git fast-import`, then times `mlops get` and `mlops list` as whole
// processes against the git CLI anchor (`git show HEAD:<deployments.yaml>`) measured in the same
// run, and the in-process production lookup against one `git show` process.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeProcess, timeCall, fmt, printTable } from './lib.mjs';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 1000);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 10000);
const MODEL = 'backlink-success';
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'dist/cli/main.js');

const sha = (s) => createHash('sha256').update(s).digest('hex');
const pad = (n) => String(n).padStart(2, '0');

function manifest(v, i, parent) {
  const art = `onnx-bytes-${v}`;
  return `apiVersion: mlops/v1
kind: ModelVersion
model: ${MODEL}
version: ${v}
created_at: 2026-0${1 + (i % 9)}-${pad(1 + (i % 28))}T02:00:00Z
parent: ${parent ?? 'null'}
artifact:
  path: model.onnx
  format: onnx
  sha256: ${sha(art)}
  bytes: ${Buffer.byteLength(art)}
dataset:
  name: backlink-outcomes
  sha256: ${sha(`ds${i}`)}
  rows: ${1000 + i}
  shards: ${1 + (i % 50)}
schema:
  version: schema_v1.0
  sha256: ${sha('schema\n')}
training:
  trainer: gbdt
  params:
    trees: 200
    depth: 6
  seed: 42
  tool_version: 0.1.0
metrics:
  auc: ${(0.8 + (i % 100) / 1000).toFixed(3)}
  accuracy: 0.8
  log_loss: 0.4
validation: null
lifecycle:
  state: active
  reason: null
  at: null
observed: {}
`;
}

function deployments(prod, canary) {
  return `apiVersion: mlops/v1\nkind: Deployments\nmodel: ${MODEL}\nproduction: ${prod ?? 'null'}\n\n${canary ? `canary:\n  version: ${canary}\n  weight: 0.1\n  started_at: 2026-11-29T09:12:00Z` : 'canary: null'}\n`;
}

async function build(dir) {
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  const fi = spawn('git', ['fast-import', '--quiet'], { cwd: dir, stdio: ['pipe', 'inherit', 'inherit'] });
  const chunks = [];
  const w = (s) => chunks.push(typeof s === 'string' ? Buffer.from(s) : s);
  const data = (s) => { const b = Buffer.from(s); w(`data ${b.length}\n`); w(b); w('\n'); };
  let t = 1764000000;
  let mark = 0;
  const commit = (msg, files) => {
    mark++;
    w(`commit refs/heads/main\nmark :${mark}\ncommitter Bench <bench@example.test> ${t++} +0000\n`);
    data(msg);
    if (mark > 1) w(`from :${mark - 1}\n`);
    for (const [p, c] of Object.entries(files)) { w(`M 100644 inline ${p}\n`); data(c); }
    return mark;
  };
  commit('init', {
    'mlops.config.json': JSON.stringify({ model: MODEL, forge: { type: 'local', base: 'main' } }) + '\n',
    'registry/schemas/schema_v1.0.yaml': 'schema\n',
    [`registry/${MODEL}/model.yaml`]: `apiVersion: mlops/v1\nkind: Model\nname: ${MODEL}\ntask: binary-classification\nschema_version: schema_v1.0\n`,
    [`registry/${MODEL}/deployments.yaml`]: deployments(null, null),
    '.gitignore': '.mlops/\n',
  });
  // Spread COMMITS over VERSIONS registrations, each followed by canary moves and other commits.
  const perVersion = Math.floor((COMMITS - 1) / VERSIONS);
  let prod = null;
  let n = 1;
  for (let i = 0; i < VERSIONS; i++) {
    const v = `v1.${i}.0`;
    const m = commit(`mlops(${MODEL}): register ${v}\n\nMlops-Action: register\nMlops-Model: ${MODEL}\nMlops-Version: ${v}\nMlops-Previous: ${prod ?? 'none'}\n`, {
      [`registry/${MODEL}/versions/${v}/manifest.yaml`]: manifest(v, i, prod),
      [`registry/${MODEL}/versions/${v}/model.onnx`]: `onnx-bytes-${v}`,
    });
    w(`tag ${MODEL}@${v}\nfrom :${m}\ntagger Bench <bench@example.test> ${t++} +0000\n`);
    data(`Registered ${MODEL} ${v}\n`);
    n++;
    for (let k = 1; k < perVersion && n < COMMITS; k++, n++) {
      if (prod && k === 1) commit(`mlops(${MODEL}): canary-start ${v}\n\nMlops-Action: canary-start\nMlops-Model: ${MODEL}\nMlops-Version: ${v}\nMlops-Previous: ${prod}\n`, { [`registry/${MODEL}/deployments.yaml`]: deployments(prod, v) });
      else if (k === 2 || (!prod && k === 1)) { commit(`mlops(${MODEL}): promote ${v}\n\nMlops-Action: promote\nMlops-Model: ${MODEL}\nMlops-Version: ${v}\nMlops-Previous: ${prod ?? 'none'}\n`, { [`registry/${MODEL}/deployments.yaml`]: deployments(v, null) }); prod = v; }
      else commit(`chore: unrelated change ${n}`, { 'notes.txt': `${n}\n` });
    }
  }
  while (n < COMMITS) { commit(`chore: unrelated change ${n}`, { 'notes.txt': `${n}\n` }); n++; }
  fi.stdin.end(Buffer.concat(chunks));
  await new Promise((res, rej) => fi.on('close', (c) => (c === 0 ? res() : rej(new Error(`fast-import exit ${c}`)))));
  execFileSync('git', ['checkout', '-q', '-f', 'main'], { cwd: dir });
  execFileSync('git', ['gc', '-q'], { cwd: dir });
  // Files older than the parse cache's racy window, as in any checkout that is not brand new.
  const old = new Date(Date.now() - 60_000);
  const walk = (p) => { for (const e of readdirSync(p, { withFileTypes: true })) { if (e.name === '.git') continue; const q = join(p, e.name); if (e.isDirectory()) walk(q); else utimesSync(q, old, old); } };
  walk(dir);
  return prod;
}

const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-registry-'));
try {
  const t0 = Date.now();
  const prod = await build(dir);
  const commits = execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  const tags = execFileSync('git', ['tag'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').length;
  console.log(`registry: ${VERSIONS} versions, ${commits} commits, ${tags} tags, production ${prod} (built in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const node = timeProcess(process.execPath, ['-e', '0'], { cwd: dir });
  const gitShow = timeProcess('git', ['show', `HEAD:registry/${MODEL}/deployments.yaml`], { cwd: dir });
  // Cold: no parse cache yet (first run after a clone).
  const coldStart = Date.now();
  execFileSync(process.execPath, [bin, 'list', '--json'], { cwd: dir, stdio: 'ignore' });
  const coldList = Date.now() - coldStart;
  const get = timeProcess(process.execPath, [bin, 'get', MODEL, '--stage', 'production', '--json'], { cwd: dir });
  const list = timeProcess(process.execPath, [bin, 'list', '--json'], { cwd: dir });
  const history = timeProcess(process.execPath, [bin, 'history', MODEL, '--json'], { cwd: dir, runs: 5 });

  const { openContext } = await import(join(root, 'dist/app/context.js'));
  const { getStage } = await import(join(root, 'dist/app/read.js'));
  const ctx = await openContext({ dir });
  const inproc = await timeCall(() => getStage(ctx, { model: MODEL, stage: 'production' }), { runs: 200 });
  const inprocRef = await timeCall(() => getStage(ctx, { model: MODEL, stage: 'production', ref: 'HEAD' }), { runs: 50 });

  printTable('whole processes (median of 15; "own work" = minus `node -e 0`)', [
    ['command', 'median', 'own work', 'vs git show'],
    ['node -e 0 (startup anchor)', fmt(node.median), '-', '-'],
    ['git show HEAD:deployments.yaml (anchor)', fmt(gitShow.median), '-', '1.00x'],
    ['mlops get --stage production', fmt(get.median), fmt(get.median - node.median), `${(get.median / gitShow.median).toFixed(2)}x`],
    ['mlops list (1,000 versions, cached)', fmt(list.median), fmt(list.median - node.median), `${(list.median / gitShow.median).toFixed(2)}x`],
    ['mlops list (first run, no cache)', fmt(coldList), fmt(coldList - node.median), `${(coldList / gitShow.median).toFixed(2)}x`],
    ['mlops history (10,000 commits)', fmt(history.median), fmt(history.median - node.median), `${(history.median / gitShow.median).toFixed(2)}x`],
  ]);
  printTable('in-process production lookup (library) vs one git show process', [
    ['call', 'median', 'vs git show'],
    ['getStage(production), working tree', fmt(inproc.median), `${(inproc.median / gitShow.median).toFixed(3)}x`],
    ['getStage(production, ref HEAD), isomorphic-git', fmt(inprocRef.median), `${(inprocRef.median / gitShow.median).toFixed(3)}x`],
    ['git show HEAD:deployments.yaml', fmt(gitShow.median), '1.000x'],
  ]);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
