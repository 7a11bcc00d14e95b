// Commands beyond the registry core: canary analysis, data, routing, local merge, training.
import type { Command } from 'commander';
import type { CommandEnv } from '../program.js';
import { registerCanaryCommands } from './canary.js';
import { registerDataCommands } from './data.js';
import { registerTrainCommands } from './train.js';
import { registerServeCommands } from './serve.js';
import { registerDemoCommand } from './demo.js';
import { registerDashboardCommand } from './dashboard.js';

export function registerExtraCommands(program: Command, env: CommandEnv): void {
  registerCanaryCommands(program, env);
  registerDataCommands(program, env);
  registerTrainCommands(program, env);
  registerServeCommands(program, env);
  registerDemoCommand(program, env);
  registerDashboardCommand(program, env);
}
