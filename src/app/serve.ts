// Use case: `mlops serve`, the server with the registry's configuration, its bearer token and a
// graceful stop on SIGTERM/SIGINT.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MlopsError } from '../errors.js';
import { loadConfig } from '../config/config.js';
import { REGISTRY_DIR } from '../registry/paths.js';
import { startServer, type RunningServer, type StartServerOptions } from '../serve/server.js';

/** What the signal handling listens on: `process` in the CLI, an EventEmitter in tests. */
export interface SignalSource {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface ServeOptions extends Omit<StartServerOptions, 'dir' | 'responseTimeBounds'> {
  /** Registry directory (default: current directory). */
  dir?: string;
  /** Environment for MLOPS_SERVE_TOKEN / MLOPS_TOKEN (default process.env); `token` wins when given. */
  env?: NodeJS.ProcessEnv;
  /** Stop gracefully on SIGTERM and SIGINT from here (default process; null = no handlers). */
  signals?: SignalSource | null;
}

export interface Serving {
  server: RunningServer;
  /** Resolves once the server has stopped (after a signal or server.close()); the CLI then exits 0. */
  done: Promise<void>;
}

export async function serve(opts: ServeOptions = {}): Promise<Serving> {
  const dir = resolve(opts.dir ?? process.cwd());
  const st = await stat(join(dir, REGISTRY_DIR)).catch(() => null);
  if (!st?.isDirectory()) {
    throw new MlopsError('NOT_A_REGISTRY', `${dir} has no ${REGISTRY_DIR}/ folder to serve`, { hint: 'Run `mlops serve` in a registry repository, or pass --repo DIR.' });
  }
  const { config } = await loadConfig({ dir });
  const env = opts.env ?? process.env;
  // MLOPS_SERVE_TOKEN keeps the replicas' token apart from the GitHub token CI calls MLOPS_TOKEN.
  const token = opts.token !== undefined ? opts.token : env.MLOPS_SERVE_TOKEN || env.MLOPS_TOKEN || null;
  const server = await startServer({
    ...opts,
    dir,
    token,
    // The canary's latency bounds must be histogram boundaries for the Prometheus source.
    responseTimeBounds: [config.canary.thresholds.max_response_time_ms, config.rollback.thresholds.max_response_time_ms],
  });
  const signals = opts.signals === undefined ? process : opts.signals;
  const onSignal = () => void server.close();
  if (signals) {
    signals.once('SIGTERM', onSignal);
    signals.once('SIGINT', onSignal);
  }
  // A close() from elsewhere (a library caller, a test) ends the serve too.
  const done = server.closed.finally(() => {
    if (signals) {
      signals.off('SIGTERM', onSignal);
      signals.off('SIGINT', onSignal);
    }
  });
  return { server, done };
}
