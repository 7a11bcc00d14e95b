// `mlops demo`: the whole loop offline, in a fresh temporary registry.
import type { Command } from '../parser.js';
import { MlopsError } from '../../errors.js';
import type { CommandEnv } from '../program.js';

export function registerDemoCommand(program: Command, env: CommandEnv): void {
  program
    .command('demo')
    .option('--dir <dir>', 'build it here (a new or empty folder; default: a temporary one)')
    .option('--seed <n>', 'random seed: the same seed gives the same versions, verdicts and numbers', '42')
    .description('run the whole loop offline: retrain PRs, a promoted canary, an automatic rollback by git revert, alerts, the dashboard')
    .addHelpText('after', '\nTakes about a minute. Nothing leaves the machine: the forge is local and the origin a bare repository.\n\nExamples:\n  $ mlops demo\n  $ mlops demo --dir ./demo --seed 7 --json\n')
    .action(
      env.action(async (o: { dir?: string; seed: string }) => {
        const seed = Number(o.seed);
        if (!Number.isInteger(seed)) throw new MlopsError('INVALID_ARGUMENT', `--seed ${o.seed} is not an integer`, { hint: 'e.g. --seed 7' });
        const out = env.out();
        const { runDemo } = await import('../../app/demo.js');
        const { resolve } = await import('node:path');
        const r = await runDemo({ dir: o.dir ? resolve(env.io.cwd, o.dir) : undefined, seed, log: (l) => (env.globals().json ? out.note(l) : out.line(l)) });
        if (env.globals().json) return out.json(r);
        out.line('');
        out.line(out.bold('Summary'));
        for (const v of r.versions) out.line(`  ${v.version}  ${out.status(v.status).padEnd(20)} test AUC ${v.auc?.toFixed(4) ?? '-'}`);
        for (const c of r.canaries) {
          const s = c.streams;
          out.line(`  canary ${c.version}: ${c.verdict} after ${c.hours} h -> ${c.action}  (S ${s.S.k}/${s.S.n} Λ=${s.S.llr}, E ${s.E.k}/${s.E.n} Λ=${s.E.llr}, L↑ ${s.Lup.k}/${s.Lup.n} Λ=${s.Lup.llr})`);
          for (const reason of c.reasons) out.line(`      ${reason}`);
        }
        if (r.revertCommit) out.line(`  rollback: git revert commit ${r.revertCommit}  (git -C ${r.registry} show ${r.revertCommit.slice(0, 12)})`);
        out.line(`  alerts:    ${r.alerts}`);
        out.line(`  dashboard: ${r.dashboard}`);
        out.line(`  ${r.seconds.toFixed(0)} s, seed ${r.seed}`);
      }),
    );
}
