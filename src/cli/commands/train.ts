// Training commands: train, evaluate, retrain.
import type { Command } from '../parser.js';
import { resolve } from 'node:path';
import { MlopsError } from '../../errors.js';
import { parseModelRef } from '../../registry/semver.js';
import { progress } from '../io.js';
import type { CommandEnv } from '../program.js';

function parseParams(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new MlopsError('INVALID_ARGUMENT', '--params must be a JSON object', { hint: `e.g. --params '{"trees": 300, "depth": 6}'` });
}

export function registerTrainCommands(program: Command, env: CommandEnv): void {
  program
    .command('train')
    .option('--dataset <name>', 'dataset name in datasets.lock (default: from the config)')
    .option('--schema <version>', 'feature schema version (default: the model\'s schema_version)')
    .requiredOption('--out <dir>', 'where model.onnx, features.json and metrics.json go')
    .option('--trainer <name>', 'gbdt, logistic or external (default: from the config)')
    .option('--seed <n>', 'random seed (default: from the config)')
    .option('--params <json>', 'trainer parameters as JSON (default: from the config)')
    .description('train on a locked dataset: split by task_id, fit the featurizer, train, export ONNX, evaluate with onnxruntime')
    .addHelpText('after', '\nExamples:\n  $ mlops train --out out/\n  $ mlops train --trainer logistic --params \'{"l2": 1}\' --out out/ --json\n')
    .action(
      env.action(async (o: { dataset?: string; schema?: string; out: string; trainer?: string; seed?: string; params?: string }) => {
        const ctx = await env.context();
        const cfg = ctx.config;
        const trainer = (o.trainer ?? cfg.train.trainer) as 'gbdt' | 'logistic' | 'external';
        if (!['gbdt', 'logistic', 'external'].includes(trainer)) throw new MlopsError('TRAINER_UNKNOWN', `unknown trainer "${trainer}"`, { hint: 'Use gbdt, logistic or external.' });
        let schema = o.schema;
        if (!schema) {
          const models = ctx.store.listModels();
          schema = models.includes(cfg.model) ? (await ctx.store.readModel(cfg.model)).schema_version : cfg.schema_version;
        }
        const out = env.out();
        const bar = progress(out, 'train');
        const { trainFromDataset } = await import('../../app/train.js');
        const r = await trainFromDataset({
          dir: ctx.root,
          dataset: o.dataset ?? cfg.dataset,
          schemaVersion: schema,
          out: resolve(env.io.cwd, o.out),
          trainer,
          seed: o.seed !== undefined ? Number(o.seed) : cfg.train.seed,
          params: parseParams(o.params) ?? cfg.train.params,
          onProgress: (p) => bar.update(`${p.iteration}/${p.total}${p.validLoss !== undefined && p.validLoss !== null ? ` valid loss ${Number(p.validLoss).toFixed(4)}` : ''}`),
          external: cfg.train.external ? { command: cfg.train.external.command, timeoutMs: cfg.train.external.timeout_seconds * 1000 } : undefined,
        });
        bar.done();
        const { testRecords, ...report } = r; // the records are for callers in the process, not the report
        if (env.globals().json) return out.json(report);
        out.line(`${out.green('✓')} trained ${r.trainer} on ${r.splits.train} rows (validation ${r.splits.validation}, test ${r.splits.test})`);
        out.line(`  test AUC ${r.metrics.auc?.toFixed(4) ?? '-'}, log loss ${r.metrics.log_loss?.toFixed(4) ?? '-'}, accuracy ${r.metrics.accuracy?.toFixed(4) ?? '-'}`);
        out.line(`  ${r.files.model} (sha256 ${r.artifact.sha256.slice(0, 16)}…), ${r.files.features}, ${r.files.metrics}`);
        out.line(`\nRegister it: mlops register --model ${cfg.model} --artifact ${r.files.model} --sidecar ${r.files.features} --dataset ${r.dataset.name} --metrics ${r.files.metrics} --trainer ${r.trainer}`);
      }),
    );

  program
    .command('evaluate')
    .argument('<model@version>', 'the version to score')
    .option('--dataset <name>', 'dataset whose test split is scored (default: the one it was trained on)')
    .description('score a registered version on a test split with onnxruntime, beside the production version on the same rows')
    .addHelpText('after', '\nExamples:\n  $ mlops evaluate backlink-success@v1.3.0\n')
    .action(
      env.action(async (ref: string, o: { dataset?: string }) => {
        const { model, version } = parseModelRef(ref);
        const ctx = await env.context();
        const { evaluateVersion } = await import('../../app/evaluate.js');
        const r = await evaluateVersion({ dir: ctx.root, model, version, dataset: o.dataset });
        const out = env.out();
        if (env.globals().json) return out.json(r);
        const keys = ['auc', 'log_loss', 'accuracy', 'precision', 'recall', 'f1', 'brier', 'ece'];
        const t = r.target.metrics as unknown as Record<string, number | null>;
        const p = r.production?.metrics as unknown as Record<string, number | null> | undefined;
        out.line(`${r.dataset.name} test split: ${r.dataset.testRows} rows`);
        out.table(['METRIC', version, ...(r.production ? [`production ${r.production.version}`] : [])], keys.map((k) => [k, t[k]?.toFixed(4) ?? '-', ...(p ? [p[k]?.toFixed(4) ?? '-'] : [])]));
      }),
    );

  program
    .command('retrain')
    .option('--model <name>', 'model name (default: the configured model)')
    .option('--dry-run', 'do every step in a throwaway branch and print the result; push nothing, keep nothing')
    .description('the weekly job: collect, train, evaluate, validate against production, register, point the canary, open or update the PR')
    .addHelpText('after', '\nThe branch is mlops/retrain/<model>, rebuilt from the base branch on every run; there is only ever one PR.\nWith fewer than retrain.min_new_samples new outcomes it skips (exit 0).\n\nExamples:\n  $ mlops retrain\n  $ mlops retrain --dry-run --json\n')
    .action(
      env.action(async (o: { model?: string; dryRun?: boolean }) => {
        const ctx = await env.context();
        const out = env.out();
        const bar = progress(out, '  train');
        const { retrain } = await import('../../app/retrain.js');
        const r = await retrain(ctx, {
          model: o.model,
          dryRun: o.dryRun,
          env: env.io.env,
          stdout: env.globals().json ? env.io.stderr : env.io.stdout,
          onProgress: (p) => bar.update(`${p.iteration}/${p.total}`),
          onStep: (s) => {
            bar.done();
            out.note(`${out.dim(`[${(s.ms / 1000).toFixed(1)}s]`.padEnd(9))} ${s.name.padEnd(12)} ${s.detail}`);
          },
        });
        if (env.globals().json) return out.json(r);
        if (r.status === 'skipped') return out.line(`${out.yellow('skipped')}: ${r.reason}`);
        if (r.status === 'dry-run') return out.line(`${out.yellow('dry run')}: would open a PR for ${r.model}@${r.version} (${r.deploy}); nothing was kept`);
        out.line(`${out.green('✓')} ${r.model}@${r.version}: pull request #${r.pullRequest!.number} ${r.pullRequest!.action} (${r.pullRequest!.url})`);
      }),
    );
}
