// Commands beyond the registry core (data, training, serving, canary analysis, retrain,
// dashboard, demo) are registered here as their use cases land.
import type { Command } from 'commander';
import type { CommandEnv } from '../program.js';

export function registerExtraCommands(program: Command, env: CommandEnv): void {
  void program;
  void env;
}
