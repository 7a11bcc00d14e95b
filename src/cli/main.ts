#!/usr/bin/env node
// Entry point of the `mlops` command.
import { runCli } from './program.js';

// A reader that stops early (`mlops list | head`) closes the pipe: end quietly, as other
// command-line tools do, rather than crash with an unhandled EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
