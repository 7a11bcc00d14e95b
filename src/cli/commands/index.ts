// Commands beyond the registry core: canary analysis, data, routing, local merge.
import type { Command } from 'commander';
import type { CommandEnv } from '../program.js';
import { registerCanaryCommands } from './canary.js';
import { registerDataCommands } from './data.js';

export function registerExtraCommands(program: Command, env: CommandEnv): void {
  registerCanaryCommands(program, env);
  registerDataCommands(program, env);
}
