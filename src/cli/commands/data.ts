// Data commands: collect, status, verify, synth; and route, merge.
import type { Command } from '../parser.js';
import { MlopsError } from '../../errors.js';
import type { CommandEnv } from '../program.js';

/** The bearer token of the serving replicas: MLOPS_SERVE_TOKEN, else MLOPS_TOKEN. */
function serveToken(e: NodeJS.ProcessEnv): string | undefined {
  return e.MLOPS_SERVE_TOKEN || e.MLOPS_TOKEN || undefined;
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new MlopsError('INVALID_ARGUMENT', `${name} must be a positive integer, got "${v}"`, { hint: `e.g. ${name} 1000` });
  return n;
}

export function registerDataCommands(program: Command, env: CommandEnv): void {
  const data = program.command('data').description('outcomes and locked datasets (DVC-free): collect, status, verify, synth');

  data
    .command('collect')
    .option('--dataset <name>', 'dataset name (default: from the config)')
    .option('--from <url...>', 'also gather outcomes from `mlops serve` replicas (GET /v1/outcomes), each remembered by its cursor')
    .option('--merge-strategy <s>', 'append or dedupe (default: retrain.merge_strategy)')
    .option('--commit', 'commit the new shard and datasets.lock')
    .option('--dry-run', 'say what would be sealed, write nothing')
    .description('seal the outcomes not yet locked into a new CSV shard and append it to datasets.lock')
    .addHelpText('after', '\nExamples:\n  $ mlops data collect --commit\n  $ mlops data collect --from http://replica-1:8080 http://replica-2:8080 --json\n')
    .action(
      env.action(async (o: { dataset?: string; from?: string[]; mergeStrategy?: string; commit?: boolean; dryRun?: boolean }) => {
        if (o.mergeStrategy && o.mergeStrategy !== 'append' && o.mergeStrategy !== 'dedupe') throw new MlopsError('INVALID_ARGUMENT', '--merge-strategy must be append or dedupe', { hint: 'e.g. --merge-strategy dedupe' });
        const ctx = await env.context();
        const out = env.out();
        let gathered: unknown = null;
        if (o.from?.length) {
          const { collectRemote } = await import('../../app/collect-remote.js');
          gathered = await collectRemote({ dir: ctx.root, sources: o.from, token: serveToken(env.io.env), onProgress: (s: string) => out.note(s) });
        }
        const { collectOutcomes } = await import('../../app/data-collect.js');
        let warnings = 0;
        const r = await collectOutcomes({ dir: ctx.root, dataset: o.dataset, mergeStrategy: o.mergeStrategy as 'append' | 'dedupe' | undefined, commit: o.commit, dryRun: o.dryRun, now: ctx.now(), onWarning: () => void warnings++ });
        if (env.globals().json) return out.json({ ...r, gathered });
        if (!r.changed) out.line(`nothing new to seal in ${r.dataset} (${r.read} records read, ${r.sealed} already locked)`);
        else out.line(`${o.dryRun ? out.yellow('dry run') + ' would seal' : out.green('✓') + ' sealed'} ${r.newRows} rows into ${r.shard?.path ?? 'datasets.lock'}; merged set ${r.merged.rows} rows, sha256 ${r.merged.sha256.slice(0, 16)}…`);
        const d = r.dropped;
        const dropped = Object.entries(d).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
        if (dropped.length) out.line(`  dropped: ${dropped.join(', ')}`);
        if (warnings) out.note(`warning: ${warnings} store line(s) skipped (torn or invalid); see --json for counts`);
        if (r.commit) out.line(`  commit ${r.commit.slice(0, 12)}`);
        else if (r.changed && !o.dryRun && !o.commit) out.line('  not committed: review with `git status`, or pass --commit');
      }),
    );

  data
    .command('pull')
    .requiredOption('--from <url...>', 'base URLs of `mlops serve` replicas')
    .option('--max-pages <n>', 'at most this many pages per replica')
    .description('pull outcomes from serving replicas into the local store, without sealing them (for CI jobs)')
    .addHelpText('after', '\nThe bearer token comes from MLOPS_SERVE_TOKEN (else MLOPS_TOKEN). Each replica\'s cursor is kept in .mlops/remote-cursors.json.\n\nExamples:\n  $ mlops data pull --from http://replica-1:8080 http://replica-2:8080\n')
    .action(
      env.action(async (o: { from: string[]; maxPages?: string }) => {
        const ctx = await env.context();
        const out = env.out();
        const { collectRemote } = await import('../../app/collect-remote.js');
        // Several URLs may arrive in one argument (a CI variable): split on whitespace.
        const sources = o.from.flatMap((s) => s.split(/\s+/)).filter(Boolean);
        const r = await collectRemote({ dir: ctx.root, sources, token: serveToken(env.io.env), maxPages: o.maxPages ? positiveInt('--max-pages', o.maxPages) : undefined, onProgress: (s: string) => out.note(s) });
        if (env.globals().json) return out.json(r);
        for (const s of r) out.line(`${s.url}: ${s.records} record(s) in ${s.pages} page(s)${s.invalid ? `, ${s.invalid} invalid` : ''}${s.done ? '' : ' (more left)'}`);
      }),
    );

  data
    .command('status')
    .option('--dataset <name>', 'only this dataset')
    .description('new, locked, modified and missing data, like `dvc status`')
    .action(
      env.action(async (o: { dataset?: string }) => {
        const ctx = await env.context();
        const { dataStatus } = await import('../../app/data-status.js');
        const s = await dataStatus({ dir: ctx.root, dataset: o.dataset });
        const out = env.out();
        if (env.globals().json) {
          out.json(s);
          return s.clean ? 0 : 1;
        }
        for (const d of s.datasets) {
          out.line(`${out.bold(d.name)} (${d.mergeStrategy}): ${d.shards.length} shard(s), merged ${d.merged ? `${d.merged.rows} rows` : '-'}`);
          for (const sh of d.shards.filter((x) => x.state !== 'locked')) out.line(`  ${out.red(sh.state)}  ${sh.path}`);
          for (const u of d.untracked) out.line(`  ${out.yellow('untracked')}  ${u}`);
          if (d.new) out.line(`  new: ${d.new.rows} rows to seal${d.new.updates ? `, ${d.new.updates} updates` : ''}${d.new.conflicts ? `, ${d.new.conflicts} conflicting` : ''}`);
        }
        out.line(`store: ${s.store.records} records in ${s.store.files} file(s)${s.store.invalid + s.store.truncated ? `, ${s.store.invalid} invalid, ${s.store.truncated} torn` : ''}`);
        for (const p of s.problems) env.io.stderr.write(`${out.red('✗')} [${p.code}] ${p.path}: ${p.message}\n`);
        out.line(s.clean ? out.green('data and lock in sync') : out.yellow('changes: see above'));
        return s.clean ? 0 : 1;
      }),
    );

  data
    .command('verify')
    .option('--dataset <name>', 'only this dataset')
    .description('re-hash every locked shard; exit 1 naming each missing or modified one')
    .action(
      env.action(async (o: { dataset?: string }) => {
        const ctx = await env.context();
        const { verifyData } = await import('../../app/data-verify.js');
        const r = await verifyData({ dir: ctx.root, dataset: o.dataset });
        const out = env.out();
        if (env.globals().json) {
          out.json(r);
          return r.ok ? 0 : 1;
        }
        for (const p of r.problems) {
          env.io.stderr.write(`${out.red('✗')} [${p.code}] ${p.path}: ${p.message}\n`);
          if (p.hint) env.io.stderr.write(`  ${out.cyan('hint')} ${p.hint}\n`);
        }
        if (r.ok) out.line(`${out.green('✓')} ${r.checked} shard(s) match datasets.lock`);
        return r.ok ? 0 : 1;
      }),
    );

  data
    .command('synth')
    .option('--rows <n>', 'number of outcomes', '5000')
    .option('--seed <n>', 'random seed', '42')
    .option('--start <time>', 'first timestamp (ISO 8601)', '2026-11-01T00:00:00Z')
    .option('--end <time>', 'last timestamp (ISO 8601)', '2026-11-08T00:00:00Z')
    .option('--drift-at <time>', 'change the world after this instant (drift)')
    .option('--model-version <v>', 'model_version written into each record')
    .option('--world-seed <n>', 'seed of the domains and their rates (default: --seed); keep it to sample more weeks of one world')
    .description('append realistic synthetic backlink outcomes to the local store (demos and tests)')
    .addHelpText('after', '\nExamples:\n  $ mlops data synth --rows 20000 --seed 7 && mlops data collect --commit\n')
    .action(
      env.action(async (o: { rows: string; seed: string; start: string; end: string; driftAt?: string; modelVersion?: string; worldSeed?: string }) => {
        const ctx = await env.context();
        const { synthToStore } = await import('../../app/data-synth.js');
        const r = await synthToStore({
          dir: ctx.root,
          seed: Number(o.seed),
          worldSeed: o.worldSeed !== undefined ? Number(o.worldSeed) : undefined,
          rows: positiveInt('--rows', o.rows),
          start: o.start,
          end: o.end,
          drift: o.driftAt ? { at: o.driftAt } : undefined,
          model: ctx.config.model,
          modelVersion: o.modelVersion ?? null,
        });
        if (env.globals().json) return env.out().json(r);
        env.out().line(`${env.out().green('✓')} appended ${r.appended} synthetic outcomes to .mlops/outcomes (${r.results.success} success, ${r.results.failure} failure, ${r.results.error} error)`);
      }),
    );

  program
    .command('route')
    .argument('<model>', 'model name')
    .requiredOption('--key <key>', 'routing key (the request\'s key, by default its domain; else its task_id)')
    .description('which version serves a key (SHA-256 buckets, identical in every replica and language)')
    .addHelpText('after', '\nExamples:\n  $ mlops route backlink-success --key example.org\n')
    .action(
      env.action(async (model: string, o: { key: string }) => {
        const ctx = await env.context();
        const { route } = await import('../../canary/route.js');
        const d = await ctx.store.readDeployments(model);
        const r = route(d, o.key);
        if (env.globals().json) return env.out().json({ model, key: o.key, ...r, weight: d.canary?.weight ?? 0 });
        env.out().line(`${model}@${r.version} (${r.route}${r.bucket !== null ? `, bucket ${r.bucket} of 10000, canary below ${Math.round((d.canary?.weight ?? 0) * 10000)}` : ''})`);
      }),
    );

  program
    .command('merge')
    .argument('<branch>', 'e.g. mlops/retrain/backlink-success')
    .option('--squash', 'one squashed commit instead of a merge commit')
    .description('merge a local pull request branch into the base branch (forge.type local)')
    .addHelpText('after', '\nExamples:\n  $ mlops merge mlops/retrain/backlink-success\n')
    .action(
      env.action(async (branch: string, o: { squash?: boolean }) => {
        const ctx = await env.context();
        const { LocalForge } = await import('../../forge/local.js');
        const forge = new LocalForge({ repo: ctx.repo, remote: ctx.config.forge.remote });
        const r = await forge.mergePullRequest(branch, { method: o.squash ? 'squash' : 'merge' });
        if (env.globals().json) return env.out().json(r);
        env.out().line(`${env.out().green('✓')} merged ${branch} into ${ctx.config.forge.base}`);
      }),
    );
}
