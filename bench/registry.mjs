// Registry reads at scale (issue: a registry of 1,000 versions and 10,000 commits).
// Builds the repository with `git fast-import`, then times `mlops get` and `mlops list` as whole
// processes against the git CLI anchor (`git show HEAD:<deployments.yaml>`) measured in the same
// run, and the in-process production lookup against one `git show` process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeProcess, timeProcesses, pairedMedian, timeCall, fmt, printTable } from './lib.mjs';
import { buildRegistry, MODEL } from './gen-registry.mjs';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 1000);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 10000);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'dist/cli/main.js');

const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-registry-'));
try {
  const t0 = Date.now();
  const prod = await buildRegistry(dir, { versions: VERSIONS, commits: COMMITS });
  const commits = execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  const tags = execFileSync('git', ['tag'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').length;
  console.log(`registry: ${VERSIONS} versions, ${commits} commits, ${tags} tags, production ${prod} (built in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  // Node's own start-up for an ES-module program (the loader `node -e 0` never starts).
  const empty = join(dir, '.mlops-empty.mjs');
  writeFileSync(empty, '\n');
  // Cold: no parse cache yet (first run after a clone).
  const coldStart = Date.now();
  execFileSync(process.execPath, [bin, 'list', '--json'], { cwd: dir, stdio: 'ignore' });
  const coldList = Date.now() - coldStart;
  // Interleaved rounds; "own work" is the median of each round's difference to Node's start-up.
  const [node, gitShow, get, list] = timeProcesses(
    [
      [process.execPath, [empty]],
      ['git', ['show', `HEAD:registry/${MODEL}/deployments.yaml`]],
      [process.execPath, [bin, 'get', MODEL, '--stage', 'production', '--json']],
      [process.execPath, [bin, 'list', '--json']],
    ],
    { cwd: dir },
  );
  const history = timeProcess(process.execPath, [bin, 'history', MODEL, '--json'], { cwd: dir, runs: 5 });

  const { openContext } = await import(join(root, 'dist/app/context.js'));
  const { getStage } = await import(join(root, 'dist/app/read.js'));
  const ctx = await openContext({ dir });
  const inproc = await timeCall(() => getStage(ctx, { model: MODEL, stage: 'production' }), { runs: 200 });
  const inprocRef = await timeCall(() => getStage(ctx, { model: MODEL, stage: 'production', ref: 'HEAD' }), { runs: 50 });

  printTable('whole processes (21 interleaved rounds; "own work" = median of each round minus Node starting an empty ES module)', [
    ['command', 'median', 'own work', 'vs git show'],
    ['node empty.mjs (start-up anchor)', fmt(node.median), '-', '-'],
    ['git show HEAD:deployments.yaml (anchor)', fmt(gitShow.median), '-', '1.00x'],
    ['mlops get --stage production', fmt(get.median), fmt(pairedMedian(get, node)), `${(get.median / gitShow.median).toFixed(2)}x`],
    ['mlops list (1,000 versions, cached)', fmt(list.median), fmt(pairedMedian(list, node)), `${(list.median / gitShow.median).toFixed(2)}x`],
    ['mlops list (first run, no cache)', fmt(coldList), fmt(coldList - node.median), `${(coldList / gitShow.median).toFixed(2)}x`],
    ['mlops history (10,000 commits, median of 5)', fmt(history.median), fmt(history.median - node.median), `${(history.median / gitShow.median).toFixed(2)}x`],
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
