// Commands beyond the registry core, loaded only when named on the command line (all of them
// for help or an unknown word): `mlops get` then does not load the trainers' or server's
// command modules at start-up.
import type { Command } from '../parser.js';
import type { CommandEnv } from '../program.js';

type Register = (program: Command, env: CommandEnv) => void;

const MODULES: Record<string, () => Promise<Register[]>> = {
  canary: async () => [(await import('./canary.js')).registerCanaryCommands],
  data: async () => [(await import('./data.js')).registerDataCommands],
  train: async () => [(await import('./train.js')).registerTrainCommands],
  serve: async () => [(await import('./serve.js')).registerServeCommands],
  demo: async () => [(await import('./demo.js')).registerDemoCommand],
  dashboard: async () => [(await import('./dashboard.js')).registerDashboardCommand],
};

/** Which module registers each top-level command (the rest are in registry.ts). */
const COMMAND_MODULE: Record<string, string> = {
  canary: 'canary',
  data: 'data',
  route: 'data',
  merge: 'data',
  train: 'train',
  evaluate: 'train',
  retrain: 'train',
  serve: 'serve',
  demo: 'demo',
  dashboard: 'dashboard',
};

const CORE = new Set(['init', 'register', 'list', 'show', 'get', 'promote', 'rollback', 'deprecate', 'archive', 'history', 'verify', 'tags', 'metrics']);

export async function registerExtraCommands(program: Command, env: CommandEnv, command?: string): Promise<void> {
  const names = command && CORE.has(command) ? [] : command && COMMAND_MODULE[command] ? [COMMAND_MODULE[command]!] : Object.keys(MODULES);
  for (const name of names) for (const register of await MODULES[name]!()) register(program, env);
}

/** The first word of argv that is a command (global options and their values skipped). */
export function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--repo' || a === '--config') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}
