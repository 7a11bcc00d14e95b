// `mlops serve`: predictions with the canary split, outcome ingest and export, Prometheus metrics.
import type { Command } from '../parser.js';
import { join } from 'node:path';
import { MlopsError } from '../../errors.js';
import type { CommandEnv } from '../program.js';

export function registerServeCommands(program: Command, env: CommandEnv): void {
  program
    .command('serve')
    .option('--port <port>', 'TCP port (0: any free port)', '8080')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--body-limit <bytes>', 'largest request body', String(4 * 1024 * 1024))
    .option('--no-watch', 'do not reload when deployments.yaml or a manifest changes (the stat poll still runs)')
    .option('--no-dashboard', 'do not serve the dashboard at /')
    .description('serve the production and canary versions of every model (onnxruntime), with hot reload on git changes')
    .addHelpText(
      'after',
      `
Endpoints:
  POST /v1/models/<model>/predict   one raw record or {"records": [...]} -> probability, version, route
  POST /v1/outcomes                 one outcome (JSON) or an NDJSON batch -> the outcome store
  GET  /v1/outcomes?after=C&limit=N the store as NDJSON, with the next cursor
  GET  /metrics  /healthz  /readyz
  GET  /                            the dashboard (rebuilt on reloads and every 5 minutes)

MLOPS_SERVE_TOKEN (else MLOPS_TOKEN), when set, is the bearer token both outcome endpoints require.

Examples:
  $ mlops serve --port 8080
  $ curl -s localhost:8080/v1/models/backlink-success/predict -d '{"domain":"example.org","action_attempted":"blog_comment"}'
`,
    )
    .action(
      env.action(async (o: { port: string; host: string; bodyLimit: string; watch: boolean; dashboard: boolean }) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MlopsError('INVALID_ARGUMENT', `--port ${o.port} is not a TCP port`, { hint: 'e.g. --port 8080' });
        const bodyLimit = Number(o.bodyLimit);
        if (!Number.isInteger(bodyLimit) || bodyLimit <= 0) throw new MlopsError('INVALID_ARGUMENT', `--body-limit ${o.bodyLimit} is not a positive number of bytes`, { hint: 'e.g. --body-limit 1048576' });
        const ctx = await env.context();
        const out = env.out();
        const { serve } = await import('../../app/serve.js');
        const json = env.globals().json;
        const log = (e: object) => void env.io.stderr.write(JSON.stringify(e) + '\n');
        const site = join(ctx.root, '.mlops', 'dashboard');
        const { server, done } = await serve({
          dir: ctx.root,
          host: o.host,
          port,
          bodyLimit,
          watch: o.watch,
          env: env.io.env,
          // Logs are JSON lines on stderr; stdout carries only the start line.
          log,
          ...(o.dashboard ? { staticRoot: site } : {}),
        });
        let live: { close(): Promise<void> } | null = null;
        if (o.dashboard) {
          const { startLiveDashboard } = await import('../../app/live-dashboard.js');
          const d = startLiveDashboard({ root: ctx.root, out: site, log });
          server.onReload(() => d.trigger());
          live = d;
        }
        if (json) out.json({ url: server.url, port: server.port });
        else out.line(`serving ${ctx.root} at ${server.url} (SIGTERM or Ctrl-C to stop)`);
        await done;
        await live?.close();
      }),
    );
}
