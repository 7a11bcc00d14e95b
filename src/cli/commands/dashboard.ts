// `mlops dashboard --out DIR`: the static site (GitHub Pages ready).
import type { Command } from '../parser.js';
import { resolve } from 'node:path';
import type { CommandEnv } from '../program.js';
import { parseAt } from './canary.js';

export function registerDashboardCommand(program: Command, env: CommandEnv): void {
  program
    .command('dashboard')
    .requiredOption('--out <dir>', 'output folder (created, or replaced when it holds an earlier build)')
    .option('--at <time>', 'describe the registry as of this ISO 8601 instant (canary verdicts)')
    .description('write the dashboard: a self-contained static site (relative links, no outside requests, works from file://)')
    .addHelpText('after', '\nPages: overview, one per model (versions, pointer timeline), canary (rates and the sequential statistic\nagainst its bounds), one per version (manifest, metrics against its baseline, data, tag), datasets.\n`mlops serve` serves the same pages live at /.\n\nExamples:\n  $ mlops dashboard --out _site\n')
    .action(
      env.action(async (o: { out: string; at?: string }) => {
        const ctx = await env.context();
        const { buildDashboard } = await import('../../app/dashboard.js');
        const r = await buildDashboard({ ctx, out: resolve(env.io.cwd, o.out), now: parseAt(o.at) });
        const out = env.out();
        if (env.globals().json) return out.json(r);
        out.line(`${out.green('✓')} ${r.pages.length} pages, ${r.files.length} files in ${r.out}`);
        for (const w of r.warnings) out.note(`warning: ${w}`);
        out.line(`  open ${resolve(r.out, 'index.html')}`);
      }),
    );
}
