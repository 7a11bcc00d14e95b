// Terminal output: where text goes, whether it may be coloured, how tables, progress and
// errors look. Commands return data; this module renders it.
import { isMlopsError } from '../errors.js';

export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  debug: boolean;
}

export class Out {
  constructor(
    readonly io: Io,
    readonly opts: OutputOptions,
  ) {}

  get tty(): boolean {
    return !!this.io.stderr.isTTY;
  }

  /** Result text on stdout (suppressed by --quiet, replaced by JSON under --json). */
  line(s = ''): void {
    if (!this.opts.quiet && !this.opts.json) this.io.stdout.write(s + '\n');
  }

  /**
   * JSON on stdout: indented on a terminal, one compact line for a program reading it (as gh
   * does). Indenting takes V8's slow path: about 5-10 ms for `mlops list` at 1,000 versions.
   */
  json(value: unknown): void {
    this.io.stdout.write((this.io.stdout.isTTY ? JSON.stringify(value, null, 2) : JSON.stringify(value)) + '\n');
  }

  /** Progress and notes on stderr, never in JSON output. */
  note(s: string): void {
    if (!this.opts.quiet) this.io.stderr.write(s + '\n');
  }

  private paint(code: string, s: string): string {
    return this.opts.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }
  bold = (s: string) => this.paint('1', s);
  dim = (s: string) => this.paint('2', s);
  red = (s: string) => this.paint('31', s);
  green = (s: string) => this.paint('32', s);
  yellow = (s: string) => this.paint('33', s);
  cyan = (s: string) => this.paint('36', s);

  status(s: string): string {
    switch (s) {
      case 'production': return this.green(s);
      case 'canary': return this.yellow(s);
      case 'deprecated': case 'archived': return this.dim(s);
      case 'rollback': return this.red(s);
      case 'promote': return this.green(s);
      default: return s;
    }
  }

  table(headers: string[], rows: string[][]): void {
    // eslint-disable-next-line no-control-regex
    const width = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
    const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
    const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c)))).join('  ');
    this.line(this.bold(fmt(headers)));
    for (const r of rows) this.line(fmt(r));
  }

  /** Prints an error (JSON on stderr under --json) and returns the exit status. */
  error(e: unknown): number {
    if (isMlopsError(e)) {
      if (this.opts.json) {
        this.io.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null, ...(e.data ? { data: redact(e.data) } : {}) } }) + '\n');
      } else {
        this.io.stderr.write(`${this.red('error')} ${this.dim(`[${e.code}]`)} ${e.message}\n`);
        if (e.hint) this.io.stderr.write(`${this.cyan('hint')} ${e.hint}\n`);
        if (this.opts.debug && e.cause) this.io.stderr.write(`${String((e.cause as Error).stack ?? e.cause)}\n`);
      }
      return e.exitCode;
    }
    const err = e as Error;
    if (this.opts.json) {
      this.io.stderr.write(JSON.stringify({ error: { code: 'INTERNAL', message: err?.message ?? String(e), hint: 'This is a bug; run again with --debug and report it.' } }) + '\n');
    } else {
      this.io.stderr.write(`${this.red('error')} [INTERNAL] ${err?.message ?? String(e)}\n`);
      this.io.stderr.write(this.opts.debug ? `${err?.stack ?? ''}\n` : `${this.cyan('hint')} This is a bug; run again with --debug for the stack trace and report it.\n`);
    }
    return 1;
  }
}

/** Never let a credential reach a log or an error report. */
export function redact<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (k, v) => (/token|secret|password|authorization/i.test(k) ? '[redacted]' : v)),
  ) as T;
}

/** A progress reporter: a rewriting line on a TTY, plain lines otherwise. */
export function progress(out: Out, label: string): { update(text: string): void; done(text?: string): void } {
  let last = 0;
  return {
    update(text: string) {
      if (out.opts.quiet || out.opts.json) return;
      if (out.tty) {
        out.io.stderr.write(`\r\x1b[2K${label} ${text}`);
      } else {
        const now = Date.now();
        if (now - last >= 1000) {
          out.io.stderr.write(`${label} ${text}\n`);
          last = now;
        }
      }
    },
    done(text?: string) {
      if (out.opts.quiet || out.opts.json) return;
      if (out.tty) out.io.stderr.write(`\r\x1b[2K`);
      if (text) out.io.stderr.write(`${label} ${text}\n`);
    },
  };
}
