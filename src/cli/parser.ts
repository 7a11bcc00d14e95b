// The command-line parser: commands, options and arguments declared with a fluent builder (the
// subset of commander's API this CLI uses), parsed by hand, with help and "did you mean".
// A dependency-free parser because start-up is most of what `mlops list` and `mlops get` cost:
// commander and the child_process module it loads took about a sixth of their time.
//
// Rules (as commander's): options may come before or after arguments; an option of a parent
// command (the global --json, --repo ...) is accepted anywhere below it; `--name value` and
// `--name=value`; a variadic option (`<url...>`) takes the following words up to the next
// option; `--` ends the options; `-h`/`--help` prints the help of the command named so far.

/** An action takes the command's arguments, then its options, then the command. */
export type Action = (...args: never[]) => unknown;

/** A usage error (exit status 2); `suggestion` is the known word nearest to a mistyped one. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly suggestion?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export class Option {
  readonly long: string;
  readonly short?: string;
  /** Key in opts(): camelCase of the long name without `no-`. */
  readonly key: string;
  readonly value: 'none' | 'required' | 'variadic';
  readonly negate: boolean;
  defaultValue: unknown;
  allowed?: readonly string[];
  hidden = false;
  mandatory = false;

  constructor(
    readonly flags: string,
    readonly description = '',
  ) {
    const m = /^(?:-(\w),\s*)?--([\w-]+)(?:\s+<(\S+?)(\.\.\.)?>)?$/.exec(flags);
    if (!m) throw new Error(`bad option flags: ${flags}`);
    this.short = m[1];
    this.negate = m[2]!.startsWith('no-') && !m[3];
    this.long = m[2]!;
    this.key = camel(this.negate ? this.long.slice(3) : this.long);
    this.value = !m[3] ? 'none' : m[4] ? 'variadic' : 'required';
    if (this.negate) this.defaultValue = true;
  }

  choices(values: readonly string[]): this {
    this.allowed = values;
    return this;
  }

  default(value: unknown): this {
    this.defaultValue = value;
    return this;
  }

  hideHelp(): this {
    this.hidden = true;
    return this;
  }
}

interface Argument {
  name: string;
  required: boolean;
  description: string;
}

interface Output {
  writeOut(s: string): void;
  writeErr(s: string): void;
}

export class Command {
  readonly commands: Command[] = [];
  private readonly options: Option[] = [];
  private readonly args: Argument[] = [];
  private readonly values: Record<string, unknown> = {};
  private about = '';
  private after = '';
  private handler?: Action;
  private parent?: Command;
  private output: Output = { writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) };

  constructor(private readonly label = '') {}

  name(): string {
    return this.label;
  }

  command(name: string): Command {
    const c = new Command(name);
    c.parent = this;
    this.commands.push(c);
    return c;
  }

  description(text: string): this {
    this.about = text;
    return this;
  }

  option(flags: string, description?: string, defaultValue?: unknown): this {
    const o = new Option(flags, description);
    if (defaultValue !== undefined) o.default(defaultValue);
    return this.addOption(o);
  }

  requiredOption(flags: string, description?: string, defaultValue?: unknown): this {
    this.option(flags, description, defaultValue);
    this.options[this.options.length - 1]!.mandatory = true;
    return this;
  }

  addOption(o: Option): this {
    this.options.push(o);
    if (o.defaultValue !== undefined) this.values[o.key] = o.defaultValue;
    return this;
  }

  argument(spec: string, description = ''): this {
    const m = /^([<[])(.+)[>\]]$/.exec(spec);
    if (!m) throw new Error(`bad argument: ${spec}`);
    this.args.push({ name: m[2]!, required: m[1] === '<', description });
    return this;
  }

  action(fn: Action): this {
    this.handler = fn;
    return this;
  }

  addHelpText(_position: 'after', text: string): this {
    this.after += text;
    return this;
  }

  /** Where help and usage text go (set on the root; sub-commands use their root's). */
  configureOutput(output: Output): this {
    this.output = output;
    return this;
  }

  opts<T = Record<string, unknown>>(): T {
    return this.values as T;
  }

  /** Parses user arguments (no `node script` prefix) and runs the named command's action. */
  async parseAsync(argv: readonly string[]): Promise<void> {
    let cmd: Command = this;
    const positional: string[] = [];
    let onlyArgs = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (onlyArgs || a === '-' || !a.startsWith('-')) {
        // Before any argument of a command with sub-commands, a word names the sub-command.
        if (!onlyArgs && positional.length === 0 && cmd.commands.length) {
          if (a === 'help') return cmd.helpFor(argv[i + 1]);
          cmd = cmd.subcommand(a);
          continue;
        }
        positional.push(a);
        continue;
      }
      if (a === '--') {
        onlyArgs = true;
        continue;
      }
      if (a === '-h' || a === '--help') {
        cmd.root().output.writeOut(cmd.helpInformation());
        return;
      }
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const flag = eq > 0 ? a.slice(0, eq) : a;
      const found = cmd.findOption(flag);
      if (!found) {
        const known = cmd.chain().flatMap((c) => c.options.filter((o) => !o.hidden).map((o) => `--${o.long}`));
        throw new UsageError(`unknown option '${a}'`, flag.startsWith('--') ? suggest(flag, known) : undefined);
      }
      const [owner, o] = found;
      if (o.value === 'none') {
        if (eq > 0) throw new UsageError(`option '${o.flags}' takes no value`);
        owner.values[o.key] = !o.negate;
        continue;
      }
      let value: string | undefined;
      if (eq > 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      if (value === undefined) throw new UsageError(`option '${o.flags}' argument missing`);
      if (o.allowed && !o.allowed.includes(value)) {
        throw new UsageError(`option '${o.flags}' argument '${value}' is invalid. Allowed choices are ${o.allowed.join(', ')}.`);
      }
      if (o.value === 'variadic') {
        const list = [value];
        while (eq < 0 && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) list.push(argv[++i]!);
        const previous = owner.values[o.key];
        owner.values[o.key] = Array.isArray(previous) ? [...previous, ...list] : list;
      } else {
        owner.values[o.key] = value;
      }
    }

    if (!cmd.handler) {
      // A command that only groups others (`mlops`, `mlops canary`): show what it offers.
      cmd.root().output.writeErr(cmd.helpInformation());
      return;
    }
    for (const c of cmd.chain()) {
      const missing = c.options.find((o) => o.mandatory && c.values[o.key] === undefined);
      if (missing) throw new UsageError(`required option '${missing.flags}' not specified`);
    }
    const missingArg = cmd.args.slice(positional.length).find((x) => x.required);
    if (missingArg) throw new UsageError(`missing required argument '${missingArg.name}'`);
    if (positional.length > cmd.args.length) {
      throw new UsageError(`too many arguments${cmd === this ? '' : ` for '${cmd.label}'`}. Expected ${cmd.args.length} argument${cmd.args.length === 1 ? '' : 's'} but got ${positional.length}.`);
    }
    const values = cmd.args.map((_, k) => positional[k]);
    await (cmd.handler as (...a: unknown[]) => unknown)(...values, cmd.values, cmd);
  }

  private helpFor(name: string | undefined): void {
    this.root().output.writeOut((name === undefined ? this : this.subcommand(name)).helpInformation());
  }

  private subcommand(name: string): Command {
    const sub = this.commands.find((c) => c.label === name);
    if (!sub) throw new UsageError(`unknown command '${name}'`, suggest(name, this.commands.map((c) => c.label)));
    return sub;
  }

  private root(): Command {
    return this.parent ? this.parent.root() : this;
  }

  /** This command and its parents, nearest first. */
  private chain(): Command[] {
    return this.parent ? [this, ...this.parent.chain()] : [this];
  }

  private findOption(flag: string): [Command, Option] | undefined {
    for (const c of this.chain()) {
      const o = c.options.find((x) => `--${x.long}` === flag || (x.short !== undefined && `-${x.short}` === flag));
      if (o) return [c, o];
    }
    return undefined;
  }

  /** `mlops canary start [options] <model@version>`. */
  private usage(): string {
    const path = this.chain().reverse().map((c) => c.label).join(' ');
    const parts = [path];
    if (this.options.some((o) => !o.hidden) || !this.parent) parts.push('[options]');
    if (this.commands.length) parts.push('[command]');
    return [...parts, ...this.argumentTerms()].join(' ');
  }

  /** One line of a parent's command list: the name, [options] and arguments. */
  private term(): string {
    const parts = [this.label];
    if (this.options.some((o) => !o.hidden)) parts.push('[options]');
    return [...parts, ...this.argumentTerms()].join(' ');
  }

  private argumentTerms(): string[] {
    return this.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`));
  }

  helpInformation(): string {
    const options: Array<[string, string]> = this.options
      .filter((o) => !o.hidden)
      .map((o) => {
        const extras = [o.allowed ? `choices: ${o.allowed.map((c) => `"${c}"`).join(', ')}` : '', o.defaultValue !== undefined && !o.negate ? `default: ${JSON.stringify(o.defaultValue)}` : '']
          .filter(Boolean)
          .join(', ');
        return [o.flags, o.description + (extras ? ` (${extras})` : '')];
      });
    options.push(['-h, --help', 'display help for command']);
    const commands: Array<[string, string]> = this.commands.map((c) => [c.term(), c.about]);
    if (commands.length) commands.push(['help [command]', 'display help for command']);
    const args: Array<[string, string]> = this.args.filter((a) => a.description).map((a) => [a.name, a.description]);
    const width = Math.max(...[...options, ...commands, ...args].map(([t]) => t.length));
    const section = (title: string, rows: Array<[string, string]>) =>
      rows.length ? `\n${title}:\n${rows.map(([t, d]) => `  ${t.padEnd(width)}  ${wrap(d, 80 - width - 4).join(`\n${' '.repeat(width + 4)}`)}`).join('\n')}\n` : '';
    return (
      `Usage: ${this.usage()}\n` +
      (this.about ? `\n${wrap(this.about, 80).join('\n')}\n` : '') +
      section('Arguments', args) +
      section('Options', options) +
      section('Commands', commands) +
      this.after
    );
  }
}

function camel(s: string): string {
  return s.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

/** Words of `text` in lines of at most `width` characters (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > Math.max(width, 20)) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

/** The candidate nearest to a mistyped word, if at most about a third of its letters differ. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.replace(/^--/, '').length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Damerau-Levenshtein distance (optimal string alignment): a swapped pair counts once. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
