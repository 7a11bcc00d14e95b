// Canary analysis commands: `canary analyze` (verdict only) and `canary check` (verdict, then act).
import type { Command } from '../parser.js';
import { MlopsError } from '../../errors.js';
import type { CommandEnv } from '../program.js';
import type { Out } from '../io.js';
import type { CanaryAnalysis } from '../../app/canary-check.js';

export function parseAt(at: string | undefined): Date | undefined {
  if (at === undefined) return undefined;
  const d = new Date(at);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(at)) {
    throw new MlopsError('INVALID_ARGUMENT', `--at "${at}" is not an ISO 8601 time`, { hint: 'e.g. --at 2026-11-30T09:00:00Z' });
  }
  return d;
}

/** The analysis as printed by --json (the hourly buckets are the dashboard's business). */
export function analysisJson(a: CanaryAnalysis): Omit<CanaryAnalysis, 'aggregate'> {
  const { aggregate: _omit, ...rest } = a;
  void _omit;
  return rest;
}

function printAnalysis(out: Out, a: CanaryAnalysis): void {
  const v = a.verdict;
  const colour = v.verdict === 'rollback' ? out.red : v.verdict === 'promote' ? out.green : out.yellow;
  out.line(`${out.bold(`${a.model}@${a.version}`)} canary at ${a.weight * 100}% vs production ${a.production ?? '-'}: ${colour(v.verdict.toUpperCase())}`);
  out.line(`  ${v.method}, ${v.elapsed_hours.toFixed(1)} h of ${v.window_hours} h, source ${a.source}${a.approximate ? ' (approximate)' : ''}, bounds ln β = ${Math.log(v.beta).toFixed(3)}, ln(1/α) = ${Math.log(1 / v.alpha).toFixed(3)}`);
  out.table(
    ['STREAM', 'N', 'K', 'RATE', 'GOOD', 'BAD', 'Λ', 'STATE'],
    (['S', 'E', 'Lup', 'Ldown'] as const).map((s) => {
      const x = v.streams[s];
      return [s, String(x.n), String(x.k), x.rate === null ? '-' : `${(x.rate * 100).toFixed(2)}%`, `${(x.p_good * 100).toFixed(1)}%`, `${(x.p_bad * 100).toFixed(1)}%`, x.llr.toFixed(3), x.state];
    }),
  );
  for (const r of v.reasons) out.line(`  - ${r}`);
  for (const w of a.warnings) out.note(`warning: ${w}`);
}

export function registerCanaryCommands(program: Command, env: CommandEnv): void {
  const canary = program.commands.find((c) => c.name() === 'canary')!;
  canary
    .command('analyze')
    .argument('[model]', 'model name (default: the configured model)')
    .option('--at <time>', 'evaluate as of this ISO 8601 instant')
    .option('--method <method>', 'sprt (default from config) or threshold, for comparison')
    .option('--no-compare', 'skip the production version\'s counts (faster on large outcome stores)')
    .description('the sequential test\'s verdict on the running canary; changes nothing')
    .addHelpText('after', '\nExamples:\n  $ mlops canary analyze backlink-success\n  $ mlops canary analyze --json --at 2026-11-30T09:00:00Z\n')
    .action(
      env.action(async (model: string | undefined, o: { at?: string; method?: string; compare: boolean }) => {
        if (o.method && o.method !== 'sprt' && o.method !== 'threshold') throw new MlopsError('INVALID_ARGUMENT', `--method ${o.method}: use sprt or threshold`, { hint: 'e.g. --method threshold' });
        const { analyzeCanary } = await import('../../app/canary-check.js');
        const a = await analyzeCanary(await env.context(), { model, at: parseAt(o.at), method: o.method as 'sprt' | 'threshold' | undefined, compare: o.compare });
        if (env.globals().json) return env.out().json(analysisJson(a));
        printAnalysis(env.out(), a);
      }),
    );
  canary
    .command('check')
    .argument('[model]', 'model name (default: the configured model)')
    .option('--at <time>', 'evaluate as of this ISO 8601 instant')
    .option('--dry-run', 'say what would be done, change nothing, send nothing')
    .description('the verdict, then act: roll back (git revert), promote (PR or commit), step the weight, or hold and alert')
    .addHelpText('after', '\nRun hourly (see .github/workflows/canary.yml). With no canary running it does nothing.\n\nExamples:\n  $ mlops canary check backlink-success\n  $ mlops canary check --dry-run --json\n')
    .action(
      env.action(async (model: string | undefined, o: { at?: string; dryRun?: boolean }) => {
        const { checkCanary } = await import('../../app/canary-check.js');
        const r = await checkCanary(await env.context(), { model, at: parseAt(o.at), dryRun: o.dryRun, env: env.io.env, stdout: env.globals().json ? env.io.stderr : env.io.stdout });
        const out = env.out();
        if (env.globals().json) {
          out.json({ ...r, analysis: r.analysis ? analysisJson(r.analysis) : null });
          return r.action === 'source-failed' ? 1 : 0;
        }
        if (!r.version) return out.line(`no canary of ${r.model} is running: nothing to do`);
        if (r.analysis) printAnalysis(out, r.analysis);
        const what: Record<string, string> = {
          none: 'nothing to do: keep watching',
          rollback: `rolled back by git revert (${r.commits.map((c) => c.slice(0, 12)).join(', ')})${r.pushed ? ', pushed' : ''}`,
          'rollback-pr': `rollback pull request ${r.pullRequest?.url ?? ''} (${r.pullRequest?.action})`,
          promote: `promoted (${r.commits[0]?.slice(0, 12)})${r.pushed ? ', pushed' : ''}`,
          'promote-pr': `promotion pull request ${r.pullRequest?.url ?? ''} (${r.pullRequest?.action})`,
          weight: `canary weight stepped up (${r.commits[0]?.slice(0, 12)})`,
          hold: 'held: see the alert',
          'source-failed': `held: the metric source failed (${r.error?.message ?? ''})`,
        };
        out.line(`${r.dryRun ? out.yellow('dry run: would act: ') : ''}${what[r.action]}`);
        for (const a of r.alerts) out.note(`alert ${a.status}${a.reason ? ` (${a.reason})` : ''}`);
        if (r.error && r.action !== 'source-failed') out.note(`warning: ${r.error.message}`);
        return r.action === 'source-failed' ? 1 : 0;
      }),
    );
}
