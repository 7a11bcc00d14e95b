// Dashboard build at scale (issue 8: a registry of 1,000 versions and 10,000 commits in under
// 5 s). Builds the registry with the shared generator (plus a year of weekly dataset shards),
// then times `buildDashboard` as a whole process, first without and then with the parse
// caches, and in-process, against the anchor measured in the same run: `git log` of the same
// 10,000 commits (and `node -e 0` for process start-up). The machines these run on are shared:
// each build also reports the CPU time of its node process (git's own processes not included),
// which moves less than wall time when other work competes for the cores.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { timeProcess, timeCall, fmt, printTable, median } from './lib.mjs';
import { buildRegistry } from './gen-registry.mjs';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 1000);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 10000);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 52);
const BUDGET_MS = 5000;
const root = fileURLToPath(new URL('..', import.meta.url));
const dashboardJs = join(root, 'dist/app/dashboard.js');
const contextJs = join(root, 'dist/app/context.js');

// One build as its own process: what `mlops dashboard --out DIR` costs (CLI parsing aside).
const buildScript = `
const { openContext } = await import(${JSON.stringify(contextJs)});
const { buildDashboard } = await import(${JSON.stringify(dashboardJs)});
const t0 = performance.now();
const r = await buildDashboard({ ctx: await openContext({ dir: process.cwd() }), out: process.argv[1], now: new Date('2026-12-01T00:00:00Z') });
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000, pages: r.pages.length, warnings: r.warnings }));
`;

function buildProcess(dir, out) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', buildScript, out], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  return { wall, ...JSON.parse(r.stdout) };
}

function siteSize(dir) {
  let files = 0;
  let bytes = 0;
  const walk = (p) => { for (const e of readdirSync(p, { withFileTypes: true })) { const q = join(p, e.name); if (e.isDirectory()) walk(q); else { files++; bytes += statSync(q).size; } } };
  walk(dir);
  return { files, bytes };
}

const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-dashboard-'));
const out = join(dir, '.site');
try {
  const t0 = Date.now();
  const prod = await buildRegistry(dir, { versions: VERSIONS, commits: COMMITS, shards: SHARDS });
  const commits = execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  console.log(`registry: ${VERSIONS} versions, ${commits} commits, ${SHARDS} dataset shards, production ${prod} (built in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const node = timeProcess(process.execPath, ['-e', '0'], { cwd: dir, runs: 5 });
  const gitLog = timeProcess('git', ['log'], { cwd: dir, runs: 5 });
  const gitLogDeployments = timeProcess('git', ['log', '--raw', '--', 'registry/backlink-success/deployments.yaml'], { cwd: dir, runs: 5 });

  const med = (runs) => ({ wall: median(runs.map((r) => r.wall)), ms: median(runs.map((r) => r.ms)), cpu: median(runs.map((r) => r.cpu)), pages: runs[0].pages, warnings: runs[0].warnings });
  // Cold: no parse cache, no shard cache (a fresh CI checkout). Median of 3.
  const cold = med([0, 1, 2].map(() => {
    rmSync(join(dir, '.mlops'), { recursive: true, force: true });
    return buildProcess(dir, out);
  }));
  // Warm: the caches of .mlops/cache in place (a long-lived machine, or CI with a cache step).
  const warm = med([0, 1, 2].map(() => buildProcess(dir, out)));
  // What a server's rebuild meets: one new commit to deployments.yaml since the last build.
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.test' };
  const deploymentsPath = join(dir, 'registry/backlink-success/deployments.yaml');
  const afterCommit = med([0, 1, 2].map((i) => {
    appendFileSync(deploymentsPath, `# touched ${i}\n`);
    execFileSync('git', ['commit', '-q', '-am', `hand edit ${i}`], { cwd: dir, env: gitEnv });
    return buildProcess(dir, out);
  }));
  const size = siteSize(out);

  const { openContext } = await import(contextJs);
  const { buildDashboard, collectDashboardData } = await import(dashboardJs);
  const { renderSite } = await import(join(root, 'dist/dashboard/render-site.js'));
  const { writeSite } = await import(join(root, 'dist/dashboard/write-site.js'));
  const { listVersions } = await import(join(root, 'dist/app/read.js'));
  const { readHistory } = await import(join(root, 'dist/app/history.js'));
  const now = new Date('2026-12-01T00:00:00Z');
  // Where the time goes: the library's reads (cold and warm), then this module's render and write.
  rmSync(join(dir, '.mlops'), { recursive: true, force: true });
  const coldCtx = await openContext({ dir });
  const t1 = performance.now();
  await listVersions(coldCtx);
  const listCold = performance.now() - t1;
  const ctx = await openContext({ dir });
  const list = await timeCall(() => listVersions(ctx), { runs: 3 });
  const history = await timeCall(() => readHistory(ctx, 'backlink-success'), { runs: 3 });
  const collect = await timeCall(() => collectDashboardData(ctx, { now }), { runs: 3 });
  const data = await collectDashboardData(ctx, { now });
  const render = await timeCall(async () => renderSite(data), { runs: 3 });
  const pages = renderSite(data);
  const write = await timeCall(() => writeSite(out, pages.map((p) => ({ path: p.path, content: p.html })), {}), { runs: 3 });
  const inproc = await timeCall(() => buildDashboard({ ctx, out, now }), { runs: 3 });

  console.log(`site: ${cold.pages} pages, ${size.files} files, ${(size.bytes / 1048576).toFixed(1)} MiB; warnings: ${cold.warnings.length ? cold.warnings.join(' | ') : 'none'}`);
  printTable(`whole processes, median of 3 (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; "build" = buildDashboard inside the process; wall adds node start-up and module loading)`, [
    ['what', 'wall', 'build', 'node CPU', 'vs git log', 'budget 5 s'],
    ['node -e 0 (start-up anchor)', fmt(node.median), '-', '-', '-', '-'],
    [`git log, ${commits} commits (anchor)`, fmt(gitLog.median), '-', '-', '1.00x', '-'],
    ['git log --raw deployments.yaml', fmt(gitLogDeployments.median), '-', '-', `${(gitLogDeployments.median / gitLog.median).toFixed(2)}x`, '-'],
    ['dashboard build, cold (no .mlops/cache)', fmt(cold.wall), fmt(cold.ms), fmt(cold.cpu), `${(cold.wall / gitLog.median).toFixed(2)}x`, cold.wall < BUDGET_MS ? 'within' : 'OVER'],
    ['dashboard build, warm', fmt(warm.wall), fmt(warm.ms), fmt(warm.cpu), `${(warm.wall / gitLog.median).toFixed(2)}x`, warm.wall < BUDGET_MS ? 'within' : 'OVER'],
    ['warm, one new deployments.yaml commit since', fmt(afterCommit.wall), fmt(afterCommit.ms), fmt(afterCommit.cpu), `${(afterCommit.wall / gitLog.median).toFixed(2)}x`, afterCommit.wall < BUDGET_MS ? 'within' : 'OVER'],
  ]);
  printTable('in-process steps (median of 3 unless cold)', [
    ['step', 'time', 'vs git log'],
    ['listVersions, 1,000 manifests, cold (parse + validate)', fmt(listCold), `${(listCold / gitLog.median).toFixed(2)}x`],
    ['listVersions, warm (parse cache)', fmt(list.median), `${(list.median / gitLog.median).toFixed(2)}x`],
    [`readHistory, ${commits} commits (git log + YAML of each deployments.yaml)`, fmt(history.median), `${(history.median / gitLog.median).toFixed(2)}x`],
    ['collectDashboardData, warm (the above, tags, manifests, lock, alerts)', fmt(collect.median), `${(collect.median / gitLog.median).toFixed(2)}x`],
    [`renderSite (${pages.length} pages)`, fmt(render.median), `${(render.median / gitLog.median).toFixed(2)}x`],
    [`writeSite (${(size.bytes / 1048576).toFixed(1)} MiB, replace the previous build)`, fmt(write.median), `${(write.median / gitLog.median).toFixed(2)}x`],
    ['buildDashboard, warm (collect + render + write)', fmt(inproc.median), `${(inproc.median / gitLog.median).toFixed(2)}x`],
  ]);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
