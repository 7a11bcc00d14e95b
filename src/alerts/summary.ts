// Job summary notifier: in GitHub Actions the Markdown is appended to $GITHUB_STEP_SUMMARY and
// shows on the run's page; elsewhere it goes to a stream (stdout by default).
import { appendFile } from 'node:fs/promises';
import { MlopsError } from '../errors.js';
import { renderMarkdown } from './render.js';
import type { Alert, Notifier, NotifyResult } from './types.js';

/** Anything text can be written to: a stream, or the CLI's output. */
export interface TextSink {
  write(s: string): unknown;
}

export function createSummaryNotifier(options: { file?: string; stream?: TextSink; id?: string; now?: () => Date } = {}): Notifier {
  const id = options.id ?? 'summary';
  const now = options.now ?? (() => new Date());
  return {
    id,
    async notify(alert: Alert): Promise<NotifyResult> {
      const text = renderMarkdown(alert, { at: now() }) + '\n';
      if (options.file) {
        try {
          await appendFile(options.file, text);
        } catch (cause) {
          throw new MlopsError('ALERT_FAILED', `cannot append the alert to the job summary ${options.file}: ${(cause as Error).message}`, {
            cause,
            hint: 'GITHUB_STEP_SUMMARY must name a writable file (GitHub Actions sets it for each step).',
          });
        }
        return { notifier: id, status: 'sent', detail: `appended to ${options.file}` };
      }
      const stream = options.stream ?? process.stdout;
      stream.write(text);
      return { notifier: id, status: 'sent', detail: 'written to the output' };
    },
  };
}
