// The dashboard `mlops serve` shows at `/`: the same static site as `mlops dashboard`, rebuilt
// in a child process (parsing is synchronous and would stall predictions) when the server
// reloads the registry and every few minutes (the canary page changes with outcomes and time).
// One build at a time; a request arriving meanwhile queues one more. The site is swapped in by
// rename, so a reader always sees a whole build.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface LiveDashboard {
  /** Asks for a rebuild (coalesced with one in progress). */
  trigger(): void;
  /** Resolves after the first build (successful or not). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** The CLI entry to run the build with: the compiled one, also when running from sources. */
export function cliEntry(): string {
  const here = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
}

export function startLiveDashboard(opts: { root: string; out: string; intervalMs?: number; log?: (event: Record<string, unknown>) => void }): LiveDashboard {
  const log = opts.log ?? (() => undefined);
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  const build = (): Promise<void> =>
    new Promise((resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, [cliEntry(), '--repo', opts.root, '--quiet', 'dashboard', '--out', opts.out], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => {
        log(code === 0 ? { event: 'dashboard-built', ms: Date.now() - started } : { event: 'dashboard-failed', code, error: stderr.trim().split('\n')[0] });
        resolve();
      });
      child.on('error', (e) => {
        log({ event: 'dashboard-failed', error: e.message });
        resolve();
      });
    });

  const trigger = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = build().then(() => {
      markReady();
      running = null;
      if (again && !closed) {
        again = false;
        trigger();
      }
    });
  };
  const timer = setInterval(trigger, opts.intervalMs ?? 5 * 60_000);
  timer.unref();
  trigger();
  return {
    trigger,
    ready,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
