// Registry commands: init, register, list, show, get, canary start|weight|abort, promote,
// rollback, deprecate, archive, history, verify, tags sync, metrics update.
import { Command, Option } from '../parser.js';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MlopsError } from '../../errors.js';
import { parseModelRef, assertModelName } from '../../registry/semver.js';
import type { CommandEnv } from '../program.js';
import type { Out } from '../io.js';
import type { Applied } from '../../app/context.js';

function parseWeight(v: string): number {
  const n = Number(v.endsWith('%') ? Number(v.slice(0, -1)) / 100 : v);
  if (!Number.isFinite(n)) throw new MlopsError('INVALID_ARGUMENT', `weight "${v}" is not a number`, { hint: 'Write it as 0.1 or 10%.' });
  return n;
}

function printApplied(out: Out, summary: string, applied: Applied | null): void {
  if (!applied) {
    out.line(`${out.yellow('dry run')} would ${summary}`);
    return;
  }
  const how = applied.how === 'revert' ? ' (git revert)' : applied.how === 'forward' ? ' (forward commit: the revert did not apply cleanly)' : '';
  out.line(`${out.green('✓')} ${summary}`);
  out.line(`  commit ${applied.commit.slice(0, 12)}${how}${applied.tags.length ? `, tag ${applied.tags.join(', ')}` : ''}`);
}

function example(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

export function registerRegistryCommands(program: Command, env: CommandEnv): void {
  example(
    program
      .command('init')
      .description('scaffold a registry in a git repository: config, starter feature schema, model files, .gitignore, workflows; one commit')
      .option('--model <name>', 'model name', 'backlink-success')
      .option('--dataset <name>', 'dataset name', 'backlink-outcomes')
      .option('--forge <type>', 'github or local', 'github')
      .option('--no-workflows', 'do not write .github/workflows')
      .option('--action-ref <ref>', 'the composite action the workflows use', 'mlops-gitops/mlops-gitops@v0.1.0')
      .option('--dry-run', 'print the files, write nothing')
      .action(
        env.action(async (o: { model: string; dataset: string; forge: string; workflows: boolean; actionRef: string; dryRun?: boolean }) => {
          assertModelName(o.model);
          const { initRegistry } = await import('../../app/init.js');
          const g = env.globals();
          const out = env.out();
          const r = await initRegistry({ dir: g.repo ? resolve(env.io.cwd, g.repo) : env.io.cwd, model: o.model, dataset: o.dataset, forge: o.forge as 'github' | 'local', workflows: o.workflows, actionRef: o.actionRef, dryRun: o.dryRun });
          if (g.json) return out.json(r);
          out.line(`${o.dryRun ? out.yellow('dry run') + ' would write' : out.green('✓') + ' initialised registry for ' + o.model + ':'}`);
          for (const f of r.files) out.line(`  ${f}`);
          if (r.commit) out.line(`  commit ${r.commit.slice(0, 12)}`);
          out.line('\nNext: collect outcomes (`mlops data collect`), then `mlops retrain`.');
        }),
      ),
    ['mlops init', 'mlops init --model churn-risk --forge local'],
  );

  example(
    program
      .command('register')
      .description('register a new version: manifest, artifact, commit and registration tag')
      .requiredOption('--model <name>', 'model name')
      .requiredOption('--artifact <file>', 'the ONNX file')
      .requiredOption('--dataset <name|file>', 'a dataset name from datasets.lock, or the training file (hashed as is)')
      .option('--schema <version>', 'feature schema version (default: the model\'s schema_version)')
      .option('--metrics <file>', 'JSON object of evaluation metrics')
      .option('--sidecar <file...>', 'files the artifact needs beside it (e.g. features.json)')
      .addOption(new Option('--bump <part>', 'force the version part to bump').choices(['major', 'minor', 'patch']))
      .option('--version <vX.Y.Z>', 'explicit version (must be greater than every existing one)')
      .addOption(new Option('--trainer <name>', 'how the artifact was trained').choices(['gbdt', 'logistic', 'external']).default('external'))
      .option('--params <json>', 'training parameters as JSON', '{}')
      .option('--seed <n>', 'training seed')
      .option('--message <text>', 'text for the commit body')
      .option('--dry-run', 'print the plan, change nothing')
      .action(
        env.action(async (o: { model: string; artifact: string; dataset: string; schema?: string; metrics?: string; sidecar?: string[]; bump?: 'major' | 'minor' | 'patch'; version?: string; trainer: 'gbdt' | 'logistic' | 'external'; params: string; seed?: string; message?: string; dryRun?: boolean }) => {
          assertModelName(o.model);
          if (o.bump && o.version) throw new MlopsError('USAGE', '--bump and --version cannot be used together', { hint: 'Pick one.' });
          let params: Record<string, unknown>;
          try {
            params = JSON.parse(o.params);
          } catch {
            throw new MlopsError('INVALID_ARGUMENT', '--params is not JSON', { hint: `e.g. --params '{"trees":200}'` });
          }
          const { registerVersion } = await import('../../app/register.js');
          const ctx = await env.context();
          const r = await registerVersion(ctx, {
            model: o.model,
            artifact: o.artifact,
            sidecars: o.sidecar,
            dataset: o.dataset,
            schema: o.schema,
            metrics: o.metrics,
            bump: o.bump,
            version: o.version,
            message: o.message,
            training: { trainer: o.trainer, params, seed: o.seed !== undefined ? Number(o.seed) : null },
            dryRun: o.dryRun,
          });
          const out = env.out();
          if (env.globals().json) return out.json({ model: r.model, version: r.version, manifest: r.manifest, plan: r.plan, applied: r.applied });
          printApplied(out, `registered ${r.model}@${r.version} (staging)`, r.applied);
        }),
      ),
    ['mlops register --model backlink-success --artifact out/model.onnx --sidecar out/features.json --dataset backlink-outcomes --metrics out/metrics.json'],
  );

  example(
    program
      .command('list')
      .description('versions with their derived status (production, canary, staging, deprecated, archived)')
      .option('--model <name>', 'only this model')
      .action(
        env.action(async (o: { model?: string }) => {
          const { listVersions } = await import('../../app/read.js');
          const ctx = await env.context();
          const rows = await listVersions(ctx, o);
          const out = env.out();
          if (env.globals().json) return out.json(rows);
          if (rows.length === 0) return out.line('no versions registered yet');
          out.table(
            ['MODEL', 'VERSION', 'STATUS', 'CREATED', 'AUC', 'ROWS', 'DATASET', 'NOTE'],
            rows.map((r) => [
              r.model,
              r.version,
              out.status(r.status) + (r.status === 'canary' && r.weight !== null ? ` ${Math.round(r.weight * 1000) / 10}%` : ''),
              r.created_at.slice(0, 16).replace('T', ' '),
              typeof r.metrics.auc === 'number' ? r.metrics.auc.toFixed(3) : '-',
              r.dataset.rows?.toString() ?? '-',
              r.dataset.sha256.slice(0, 12),
              r.reason ?? '',
            ]),
          );
        }),
      ),
    ['mlops list', 'mlops list --model backlink-success --json'],
  );

  example(
    program
      .command('show')
      .argument('<model@version>', 'e.g. backlink-success@v1.3.0')
      .description('a version\'s manifest, status and registration tag')
      .action(
        env.action(async (ref: string) => {
          const { model, version } = parseModelRef(ref);
          const { showVersion } = await import('../../app/read.js');
          const r = await showVersion(await env.context(), { model, version });
          const out = env.out();
          if (env.globals().json) return out.json(r);
          const m = r.manifest;
          out.line(`${out.bold(`${model}@${version}`)}  ${out.status(r.status)}`);
          out.line(`  created    ${m.created_at}${m.parent ? `  (parent ${m.parent})` : ''}`);
          out.line(`  artifact   ${r.folder}/${m.artifact.path}  sha256 ${m.artifact.sha256.slice(0, 16)}…  ${m.artifact.bytes} bytes`);
          out.line(`  dataset    ${m.dataset.name}  sha256 ${m.dataset.sha256.slice(0, 16)}…  ${m.dataset.rows ?? '?'} rows${m.dataset.shards !== null ? `, ${m.dataset.shards} shards` : ''}`);
          out.line(`  schema     ${m.schema.version}  sha256 ${m.schema.sha256.slice(0, 16)}…`);
          out.line(`  training   ${m.training.trainer} ${JSON.stringify(m.training.params)} seed ${m.training.seed ?? '-'}`);
          out.line(`  metrics    ${Object.entries(m.metrics).map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toFixed(4)) : v}`).join(', ') || '-'}`);
          if (m.validation) out.line(`  validation ${m.validation.passed ? out.green('passed') : out.red('failed')} against ${m.validation.baseline ?? 'no baseline'} (threshold ${m.validation.threshold})`);
          out.line(`  lifecycle  ${m.lifecycle.state}${m.lifecycle.reason ? ` — ${m.lifecycle.reason}` : ''}`);
          out.line(`  tag        ${r.tag ? `${r.tag.name} -> ${r.tag.commit.slice(0, 12)}` : out.dim('none yet (mlops tags sync)')}`);
        }),
      ),
    ['mlops show backlink-success@v1.3.0 --json'],
  );

  example(
    program
      .command('get')
      .argument('[model]', 'model name (default: the configured model)')
      .description('the version serving a stage and the path of its artifact')
      .addOption(new Option('--stage <stage>', 'which pointer').choices(['production', 'canary']).default('production'))
      .option('--ref <ref>', 'read the pointers at a git ref (e.g. origin/main) instead of the working tree')
      .action(
        env.action(async (model: string | undefined, o: { stage: 'production' | 'canary'; ref?: string }) => {
          const { getStage } = await import('../../app/read.js');
          const r = await getStage(await env.context(), { model, stage: o.stage, ref: o.ref });
          const out = env.out();
          if (env.globals().json) return out.json(r);
          out.line(`${r.model}@${r.version}  ${r.stage}  ${Math.round(r.weight * 1000) / 10}%`);
          if (r.path) out.line(`  ${r.path}`);
          out.line(`  sha256 ${r.artifact.sha256}`);
        }),
      ),
    ['mlops get backlink-success --stage production', 'mlops get --stage canary --json', 'mlops get backlink-success --ref origin/main'],
  );

  const canary = program.command('canary').description('canary deployments: start, weight, abort, analyze, check');
  example(
    canary
      .command('start')
      .argument('<model@version>', 'a staging version')
      .option('--weight <w>', 'share of traffic, e.g. 0.1 or 10% (default: canary.steps[0] of the config)')
      .option('--dry-run', 'print the plan, change nothing')
      .description('send a share of traffic to a staging version (one canary at a time)')
      .action(
        env.action(async (ref: string, o: { weight?: string; dryRun?: boolean }) => {
          const { model, version } = parseModelRef(ref);
          const { canaryStart } = await import('../../app/stage-ops.js');
          const r = await canaryStart(await env.context(), { model, version, weight: o.weight !== undefined ? parseWeight(o.weight) : undefined, dryRun: o.dryRun });
          if (env.globals().json) return env.out().json(r);
          printApplied(env.out(), String(r.plan.summary), r.applied);
        }),
      ),
    ['mlops canary start backlink-success@v1.3.0 --weight 0.1'],
  );
  example(
    canary
      .command('weight')
      .argument('<model>', 'model name')
      .argument('<weight>', 'new share of traffic, e.g. 0.25 or 25%')
      .option('--dry-run', 'print the plan, change nothing')
      .description('change the canary\'s share of traffic')
      .action(
        env.action(async (model: string, weight: string, o: { dryRun?: boolean }) => {
          const { canaryWeight } = await import('../../app/stage-ops.js');
          const r = await canaryWeight(await env.context(), { model, weight: parseWeight(weight), dryRun: o.dryRun });
          if (env.globals().json) return env.out().json(r);
          printApplied(env.out(), String(r.plan.summary), r.applied);
        }),
      ),
    ['mlops canary weight backlink-success 0.25'],
  );
  example(
    canary
      .command('abort')
      .argument('<model>', 'model name')
      .option('--reason <text>', 'why')
      .option('--dry-run', 'print the plan, change nothing')
      .description('stop the canary (its version goes back to staging)')
      .action(
        env.action(async (model: string, o: { reason?: string; dryRun?: boolean }) => {
          const { canaryAbort } = await import('../../app/stage-ops.js');
          const r = await canaryAbort(await env.context(), { model, reason: o.reason, dryRun: o.dryRun });
          if (env.globals().json) return env.out().json(r);
          printApplied(env.out(), String(r.plan.summary), r.applied);
        }),
      ),
    ['mlops canary abort backlink-success --reason "wrong feature schema"'],
  );

  example(
    program
      .command('promote')
      .argument('<model@version>', 'the canary version (or a staging version with --force)')
      .option('--force', 'promote a staging version straight to production, skipping the canary')
      .option('--reason <text>', 'why, for the commit message')
      .option('--dry-run', 'print the plan, change nothing')
      .description('move a version to production; the old production version becomes staging (the rollback target)')
      .action(
        env.action(async (ref: string, o: { force?: boolean; reason?: string; dryRun?: boolean }) => {
          const { model, version } = parseModelRef(ref);
          const { promote } = await import('../../app/stage-ops.js');
          const r = await promote(await env.context(), { model, version, force: o.force, reason: o.reason, dryRun: o.dryRun });
          if (env.globals().json) return env.out().json(r);
          printApplied(env.out(), String(r.plan.summary), r.applied);
        }),
      ),
    ['mlops promote backlink-success@v1.3.0', 'mlops promote backlink-success@v1.0.0 --force'],
  );

  example(
    program
      .command('rollback')
      .argument('<model>', 'model name')
      .addOption(new Option('--stage <stage>', 'which pointer (default: the canary if one runs, else production)').choices(['production', 'canary']))
      .option('--reason <text>', 'why (recorded in the commits and the deprecation)')
      .option('--keep-active', 'do not deprecate the rolled-back version')
      .option('--dry-run', 'print the plan, change nothing')
      .description('git revert the commit that made the bad move, then deprecate the bad version')
      .action(
        env.action(async (model: string, o: { stage?: 'production' | 'canary'; reason?: string; keepActive?: boolean; dryRun?: boolean }) => {
          const { rollback } = await import('../../app/rollback.js');
          const r = await rollback(await env.context(), { model, stage: o.stage, reason: o.reason, keepActive: o.keepActive, dryRun: o.dryRun });
          const out = env.out();
          if (env.globals().json) return out.json(r);
          printApplied(out, String(r.plan.summary), r.applied);
          if (r.followUp) printApplied(out, String(r.followUp.plan.summary), r.followUp.applied);
        }),
      ),
    ['mlops rollback backlink-success --reason "error rate 12%"', 'mlops rollback backlink-success --stage production --keep-active'],
  );

  example(
    program
      .command('deprecate')
      .argument('<model@version>', 'a version that does not serve')
      .requiredOption('--reason <text>', 'why')
      .option('--dry-run', 'print the plan, change nothing')
      .description('mark a version deprecated (it can no longer be pointed to)')
      .action(
        env.action(async (ref: string, o: { reason: string; dryRun?: boolean }) => {
          const { model, version } = parseModelRef(ref);
          const { deprecate } = await import('../../app/stage-ops.js');
          const r = await deprecate(await env.context(), { model, version, reason: o.reason, dryRun: o.dryRun });
          if (env.globals().json) return env.out().json(r);
          printApplied(env.out(), String(r.plan.summary), r.applied);
        }),
      ),
    ['mlops deprecate backlink-success@v1.1.0 --reason "trained on a leaking feature"'],
  );

  example(
    program
      .command('archive')
      .argument('<model@version>', 'a deprecated version')
      .option('--reason <text>', 'why (default: the deprecation reason)')
      .option('--prune', 'also remove the artifact files from the tree (their hashes stay in the manifest)')
      .option('--dry-run', 'print the plan, change nothing')
      .description('archive a deprecated version')
      .action(
        env.action(async (ref: string, o: { reason?: string; prune?: boolean; dryRun?: boolean }) => {
          const { model, version } = parseModelRef(ref);
          const { archive } = await import('../../app/stage-ops.js');
          const r = await archive(await env.context(), { model, version, reason: o.reason, prune: o.prune, dryRun: o.dryRun });
          if (env.globals().json) return env.out().json(r);
          printApplied(env.out(), String(r.plan.summary), r.applied);
        }),
      ),
    ['mlops archive backlink-success@v1.0.0 --prune'],
  );

  example(
    program
      .command('history')
      .argument('[model]', 'model name (default: the configured model)')
      .option('--limit <n>', 'at most this many moves')
      .description('promotions, canaries, rollbacks and reverts, from git log of deployments.yaml')
      .action(
        env.action(async (model: string | undefined, o: { limit?: string }) => {
          const { readHistory } = await import('../../app/history.js');
          const { resolveModelName } = await import('../../app/context.js');
          const ctx = await env.context();
          const name = resolveModelName(ctx, model);
          const moves = await readHistory(ctx, name, { limit: o.limit ? Number(o.limit) : undefined });
          const out = env.out();
          if (env.globals().json) return out.json({ model: name, moves });
          if (moves.length === 0) return out.line('no pointer moves yet');
          out.table(
            ['DATE', 'COMMIT', 'KIND', 'PRODUCTION', 'CANARY', 'BY', 'SUBJECT'],
            moves.map((m) => [
              m.date.slice(0, 16).replace('T', ' '),
              m.commit.slice(0, 10),
              out.status(m.kind),
              m.production ? `${m.production.from ?? '∅'} → ${m.production.to ?? '∅'}` : '',
              m.canary ? `${m.canary.from ?? '∅'} → ${m.canary.to ?? '∅'}` : m.weight ? `weight ${m.weight.from} → ${m.weight.to}` : '',
              m.by === 'hand' ? m.author.name : m.by,
              m.subject,
            ]),
          );
        }),
      ),
    ['mlops history backlink-success', 'mlops history --json'],
  );

  example(
    program
      .command('verify')
      .description('check every registry invariant and datasets.lock; exit 1 listing each problem')
      .action(
        env.action(async () => {
          const { verifyRegistry } = await import('../../app/verify.js');
          const r = await verifyRegistry(await env.context());
          const out = env.out();
          if (env.globals().json) {
            out.json(r);
            return r.ok ? 0 : 1;
          }
          for (const p of r.problems) {
            env.io.stderr.write(`${out.red('✗')} ${out.dim(`[${p.code}]`)} ${p.path}${p.line ? `:${p.line}` : ''}: ${p.message}\n`);
            if (p.hint) env.io.stderr.write(`  ${out.cyan('hint')} ${p.hint}\n`);
          }
          for (const n of r.notices) out.line(`${out.yellow('!')} ${out.dim(`[${n.code}]`)} ${n.path}: ${n.message}`);
          const c = r.checked;
          const counts = `${c.models} model(s), ${c.versions} version(s), ${c.tags} tag(s), ${c.shards} shard(s)`;
          if (r.ok) out.line(`${out.green('✓')} registry verified: ${counts}`);
          else env.io.stderr.write(`${r.problems.length} problem(s) in ${counts}\n`);
          return r.ok ? 0 : 1;
        }),
      ),
    ['mlops verify', 'mlops verify --json'],
  );

  const tags = program.command('tags').description('registration tags (<model>@<version>, GTO grammar)');
  example(
    tags
      .command('sync')
      .option('--push', 'push the registration tags to the remote')
      .option('--dry-run', 'print what would be tagged')
      .description('create missing registration tags on the default branch (never moves a tag)')
      .action(
        env.action(async (o: { push?: boolean; dryRun?: boolean }) => {
          const { syncTags } = await import('../../app/tags-sync.js');
          const r = await syncTags(await env.context(), o);
          const out = env.out();
          if (env.globals().json) {
            out.json(r);
            return r.problems.length ? 1 : 0;
          }
          for (const c of r.created) out.line(`${o.dryRun ? out.yellow('would tag') : out.green('tagged')} ${c.tag} -> ${c.commit.slice(0, 12)}`);
          for (const p of r.problems) env.io.stderr.write(`${out.red('✗')} [${p.code}] ${p.message}\n`);
          out.line(`${r.created.length} created, ${r.existing} already present${r.pushed.length ? `, ${r.pushed.length} pushed` : ''}`);
          return r.problems.length ? 1 : 0;
        }),
      ),
    ['mlops tags sync --push'],
  );

  const metrics = program.command('metrics').description('runtime metrics snapshots');
  example(
    metrics
      .command('update')
      .argument('<model@version>', 'the version')
      .requiredOption('--file <file>', 'JSON object of numbers, e.g. {"success_rate": 0.85, "error_rate": 0.02}')
      .option('--dry-run', 'print the plan, change nothing')
      .description('record a metrics snapshot in the manifest\'s observed block (one commit)')
      .action(
        env.action(async (ref: string, o: { file: string; dryRun?: boolean }) => {
          const { model, version } = parseModelRef(ref);
          let metricsValue: unknown;
          try {
            metricsValue = JSON.parse(await readFile(resolve(env.io.cwd, o.file), 'utf8'));
          } catch (cause) {
            throw new MlopsError('INVALID_ARGUMENT', `${o.file} is not a readable JSON file`, { cause, hint: 'Pass a JSON object of numbers.' });
          }
          if (!metricsValue || typeof metricsValue !== 'object' || Array.isArray(metricsValue)) {
            throw new MlopsError('INVALID_ARGUMENT', `${o.file} must hold a JSON object`, { hint: 'e.g. {"success_rate": 0.85}' });
          }
          const { updateMetrics } = await import('../../app/stage-ops.js');
          const r = await updateMetrics(await env.context(), { model, version, metrics: metricsValue as Record<string, unknown>, dryRun: o.dryRun });
          if (env.globals().json) return env.out().json(r);
          printApplied(env.out(), String(r.plan.summary), r.applied);
        }),
      ),
    ['mlops metrics update backlink-success@v1.2.3 --file metrics.json'],
  );
}
