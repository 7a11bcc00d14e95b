// The `mlops` command line: parse flags into typed options, call one use case, render text or
// --json, map errors to exit statuses (0 ok, 1 failure, 2 usage or configuration). Use cases
// are imported when their command runs, so `mlops get` does not load the trainers.
import { Command, Option, UsageError } from './parser.js';
import { MlopsError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { Out, type Io } from './io.js';
import type { Context } from '../app/context.js';
import { registerRegistryCommands } from './commands/registry.js';
import { commandWord, registerExtraCommands } from './commands/index.js';

export interface GlobalOptions {
  repo?: string;
  config?: string;
  json: boolean;
  quiet: boolean;
  color: boolean;
  debug: boolean;
}

export interface CommandEnv {
  io: Io;
  /** Output configured from the global flags (valid inside an action). */
  out(): Out;
  globals(): GlobalOptions;
  /** Opens the repository, registry and configuration named by the global flags. */
  context(): Promise<Context>;
  /** Wraps an action: runs it, stores its exit status. */
  action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void>;
}

export async function buildProgram(io: Io, setExit: (code: number) => void, argv?: string[]): Promise<Command> {
  const program = new Command('mlops');
  let out: Out | undefined;
  const globals = (): GlobalOptions => {
    const o = program.opts<{ repo?: string; config?: string; json?: boolean; quiet?: boolean; color?: boolean; debug?: boolean }>();
    const noColor = o.color === false || io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
    return {
      repo: o.repo,
      config: o.config,
      json: !!o.json,
      quiet: !!o.quiet,
      color: !noColor && !!io.stdout.isTTY && io.env.TERM !== 'dumb',
      debug: !!o.debug,
    };
  };
  const env: CommandEnv = {
    io,
    out: () => (out ??= new Out(io, globals())),
    globals,
    async context() {
      const { openContext } = await import('../app/context.js');
      const g = globals();
      return openContext({ dir: g.repo ? resolvePath(io.cwd, g.repo) : io.cwd, configFile: g.config });
    },
    action(fn) {
      return async (...args) => {
        const code = await fn(...args);
        setExit(typeof code === 'number' ? code : 0);
      };
    },
  };

  program
    .description('A Git repository as a model registry: versions, datasets, retraining PRs, canary analysis and rollback by git revert.')
    .option('--repo <dir>', 'the registry repository (default: current directory)')
    .option('--config <file>', 'configuration file (default: mlops.config.json at the repository root)')
    .option('--json', 'machine-readable output on stdout; errors as JSON on stderr')
    .option('-q, --quiet', 'print only errors')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .addOption(new Option('--debug', 'print stack traces of unexpected errors').hideHelp())
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      `
Examples:
  $ mlops demo                                    run the whole loop offline in a temporary registry
  $ mlops init --model backlink-success           scaffold a registry in this git repository
  $ mlops list                                    versions and their status
  $ mlops get backlink-success --stage production the serving version and its artifact
  $ mlops canary analyze backlink-success --json  the sequential test's verdict, changing nothing

Exit status: 0 success, 1 failure, 2 usage or configuration error.
\`mlops --version\` prints the version.`,
    );

  registerRegistryCommands(program, env);
  // `canary start|weight|abort` are core; `analyze|check` come with the canary module.
  await registerExtraCommands(program, env, argv ? commandWord(argv) : undefined);
  return program;
}

function resolvePath(cwd: string, p: string): string {
  return p.startsWith('/') ? p : `${cwd.replace(/\/$/, '')}/${p}`;
}

/** Runs the CLI in-process; returns the exit status. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  // Only as the first argument: `register --version vX.Y.Z` is an option of its own.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout.write(`${TOOL_VERSION}\n`);
    return 0;
  }
  let exit = 0;
  const program = await buildProgram(io, (c) => (exit = c), argv);
  try {
    await program.parseAsync(argv);
    return exit;
  } catch (e) {
    if (e instanceof UsageError) {
      // The words of the command line decide, as the error may come before --json is parsed.
      if (program.opts().json || argv.includes('--json')) {
        const hint = `${e.suggestion ? `Did you mean ${e.suggestion}? ` : ''}See \`mlops --help\`.`;
        io.stderr.write(JSON.stringify({ error: { code: 'USAGE', message: e.message, hint } }) + '\n');
      } else {
        io.stderr.write(`error: ${e.message}\n${e.suggestion ? `(Did you mean ${e.suggestion}?)\n` : ''}`);
      }
      return 2;
    }
    const out = new Out(io, {
      json: !!program.opts().json,
      quiet: false,
      color: program.opts().color !== false && !io.env.NO_COLOR && !!io.stderr.isTTY,
      debug: !!program.opts().debug,
    });
    return out.error(e);
  }
}

export function usageError(message: string, hint?: string): MlopsError {
  return new MlopsError('USAGE', message, { hint: hint ?? 'See `mlops <command> --help`.' });
}
