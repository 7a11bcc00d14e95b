// The benchmark registry generator shared by registry.mjs and dashboard-build.mjs: a repository
// of `versions` registrations spread over `commits` commits (canary starts, promotions and
// unrelated commits in between), with registration tags, written in one `git fast-import`.
// With `shards`, it also seals that many weekly dataset shards into datasets.lock.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

export const MODEL = 'backlink-success';
const DATASET = 'backlink-outcomes';
const SHARD_HEADER = 'timestamp,task_id,domain,url,action_attempted,result,failure_reason,execution_time,response_time_ms,model,model_version,features\n';

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
  name: ${DATASET}
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

/** Weekly shards in canonical form (header, sorted rows, LF) and the lock that lists them. */
function datasetFiles(shards, rowsPerShard) {
  const files = {};
  const entries = [];
  const week0 = Date.parse('2026-01-05T00:00:00Z');
  const results = ['success', 'success', 'success', 'failure', 'error'];
  let total = 0;
  for (let s = 0; s < shards; s++) {
    let csv = SHARD_HEADER;
    for (let r = 0; r < rowsPerShard; r++) {
      const ts = new Date(week0 + s * 7 * 86_400_000 + Math.floor((r * 7 * 86_400_000) / rowsPerShard)).toISOString();
      const i = s * rowsPerShard + r;
      csv += `${ts},t-${String(i).padStart(9, '0')},d${i % 500}.example,https://d${i % 500}.example/p/${i},blog_comment,${results[(i * 7) % 5]},,3.5,${4 + (i % 9)},${MODEL},v1.0.0,{}\n`;
    }
    const hash = sha(csv);
    const created = new Date(week0 + (s + 1) * 7 * 86_400_000 + 2 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const path = `datasets/${DATASET}/${created.slice(0, 10)}-${hash.slice(0, 8)}.csv`;
    files[path] = csv;
    entries.push(`      - path: ${path}\n        sha256: ${hash}\n        bytes: ${Buffer.byteLength(csv)}\n        rows: ${rowsPerShard}\n        created_at: ${created}\n`);
    total += rowsPerShard;
  }
  files['datasets.lock'] = `apiVersion: mlops/v1\nkind: DatasetLock\ndatasets:\n  ${DATASET}:\n    schema: outcome_v1\n    merge_strategy: append\n    shards:\n${entries.join('')}    merged:\n      sha256: ${sha('merged')}\n      rows: ${total}\n`;
  return files;
}

/**
 * Builds the registry in `dir` (created by `git init`). Returns the production version at HEAD.
 * Options: versions (1,000), commits (10,000), shards (0: no datasets.lock), rowsPerShard (2,000).
 */
export async function buildRegistry(dir, { versions = 1000, commits = 10000, shards = 0, rowsPerShard = 2000 } = {}) {
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
    ...(shards > 0 ? datasetFiles(shards, rowsPerShard) : {}),
  });
  // Spread `commits` over `versions` registrations, each followed by canary moves and other commits.
  const perVersion = Math.floor((commits - 1) / versions);
  let prod = null;
  let n = 1;
  for (let i = 0; i < versions; i++) {
    const v = `v1.${i}.0`;
    const m = commit(`mlops(${MODEL}): register ${v}\n\nMlops-Action: register\nMlops-Model: ${MODEL}\nMlops-Version: ${v}\nMlops-Previous: ${prod ?? 'none'}\n`, {
      [`registry/${MODEL}/versions/${v}/manifest.yaml`]: manifest(v, i, prod),
      [`registry/${MODEL}/versions/${v}/model.onnx`]: `onnx-bytes-${v}`,
    });
    w(`tag ${MODEL}@${v}\nfrom :${m}\ntagger Bench <bench@example.test> ${t++} +0000\n`);
    data(`Registered ${MODEL} ${v}\n`);
    n++;
    for (let k = 1; k < perVersion && n < commits; k++, n++) {
      if (prod && k === 1) commit(`mlops(${MODEL}): canary-start ${v}\n\nMlops-Action: canary-start\nMlops-Model: ${MODEL}\nMlops-Version: ${v}\nMlops-Previous: ${prod}\n`, { [`registry/${MODEL}/deployments.yaml`]: deployments(prod, v) });
      else if (k === 2 || (!prod && k === 1)) { commit(`mlops(${MODEL}): promote ${v}\n\nMlops-Action: promote\nMlops-Model: ${MODEL}\nMlops-Version: ${v}\nMlops-Previous: ${prod ?? 'none'}\n`, { [`registry/${MODEL}/deployments.yaml`]: deployments(v, null) }); prod = v; }
      else commit(`chore: unrelated change ${n}`, { 'notes.txt': `${n}\n` });
    }
  }
  while (n < commits) { commit(`chore: unrelated change ${n}`, { 'notes.txt': `${n}\n` }); n++; }
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
