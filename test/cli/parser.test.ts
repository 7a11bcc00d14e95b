// The command-line parser on its own: option and argument forms, errors with suggestions, help.
import { describe, expect, it } from 'vitest';
import { Command, Option, UsageError, suggest } from '../../src/cli/parser.js';

/** A small CLI shaped like mlops: global options, a leaf command, a group with sub-commands. */
function build() {
  const calls: Array<{ name: string; args: unknown[] }> = [];
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('tool')
    .description('a tool')
    .option('--repo <dir>', 'the repository')
    .option('--json', 'machine output')
    .option('-q, --quiet', 'print only errors')
    .option('--no-color', 'no colours')
    .addOption(new Option('--debug', 'stack traces').hideHelp())
    .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  const record = (name: string) => (...args: unknown[]) => void calls.push({ name, args: args.slice(0, -1) });
  program
    .command('list')
    .description('versions')
    .option('--model <name>', 'only this model')
    .action(record('list'));
  program
    .command('register')
    .requiredOption('--model <name>', 'model name')
    .option('--sidecar <file...>', 'files beside it')
    .addOption(new Option('--bump <part>', 'which part').choices(['major', 'minor', 'patch']))
    .addOption(new Option('--trainer <name>', 'how').choices(['gbdt', 'external']).default('external'))
    .option('--params <json>', 'parameters', '{}')
    .option('--dry-run', 'change nothing')
    .action(record('register'));
  const canary = program.command('canary').description('canary deployments');
  canary
    .command('weight')
    .description("change the canary's share")
    .argument('<model>', 'model name')
    .argument('[weight]', 'new share')
    .action(record('canary weight'));
  return { program, calls, out, err };
}

async function usageError(argv: string[]): Promise<UsageError> {
  const { program } = build();
  const e = await program.parseAsync(argv).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UsageError);
  return e as UsageError;
}

describe('command-line parser', () => {
  it('reads options in every accepted form, with defaults, before or after arguments', async () => {
    const { program, calls } = build();
    await program.parseAsync(['--repo', '/r', 'register', '--model=m', '--sidecar', 'a.json', 'b.json', '--json', '--dry-run', '--sidecar', 'c.json', '-q']);
    expect(calls).toEqual([{ name: 'register', args: [{ model: 'm', sidecar: ['a.json', 'b.json', 'c.json'], trainer: 'external', params: '{}', dryRun: true }] }]);
    expect(program.opts()).toEqual({ repo: '/r', json: true, quiet: true, color: true });

    const second = build();
    await second.program.parseAsync(['canary', '--no-color', 'weight', 'backlink', '--json', '25%']);
    expect(second.calls).toEqual([{ name: 'canary weight', args: ['backlink', '25%', {}] }]);
    expect(second.program.opts()).toMatchObject({ color: false, json: true });
  });

  it('passes an optional argument left out as undefined, and words after -- as arguments', async () => {
    const { program, calls } = build();
    await program.parseAsync(['canary', 'weight', '--', '--odd-model-name']);
    expect(calls).toEqual([{ name: 'canary weight', args: ['--odd-model-name', undefined, {}] }]);
  });

  it('takes the word after a value option as its value, even one starting with a dash', async () => {
    const { program, calls } = build();
    await program.parseAsync(['list', '--model', '-x']);
    expect(calls[0]!.args).toEqual([{ model: '-x' }]);
  });

  it.each([
    [['lst'], "unknown command 'lst'", 'list'],
    [['canary', 'wieght'], "unknown command 'wieght'", 'weight'],
    [['list', '--jsn'], "unknown option '--jsn'", '--json'],
    [['list', '--zzzzzz'], "unknown option '--zzzzzz'", undefined],
    [['list', '--model'], "option '--model <name>' argument missing", undefined],
    [['list', '--json=yes'], "option '--json' takes no value", undefined],
    [['list', 'extra'], "too many arguments for 'list'. Expected 0 arguments but got 1.", undefined],
    [['register'], "required option '--model <name>' not specified", undefined],
    [['register', '--model', 'm', '--bump', 'huge'], "option '--bump <part>' argument 'huge' is invalid. Allowed choices are major, minor, patch.", undefined],
    [['canary', 'weight'], "missing required argument 'model'", undefined],
  ])('refuses %j: %s', async (argv, message, suggestion) => {
    const e = await usageError(argv);
    expect(e.message).toBe(message);
    expect(e.suggestion).toBe(suggestion);
  });

  it('runs no action when the command line is refused', async () => {
    const { program, calls } = build();
    await expect(program.parseAsync(['register', '--model', 'm', 'extra'])).rejects.toThrow(UsageError);
    expect(calls).toEqual([]);
  });

  it('prints help for -h, --help and `help <command>` on stdout, and a group named alone on stderr', async () => {
    const a = build();
    await a.program.parseAsync(['register', '--model', 'm', '--help']);
    expect(a.calls).toEqual([]);
    const help = a.out.join('');
    expect(help).toMatch(/^Usage: tool register \[options\]\n/);
    expect(help).toContain('  --bump <part>        which part (choices: "major", "minor", "patch")\n');
    expect(help).toContain('(choices: "gbdt", "external", default: "external")');
    expect(help).toContain('  -h, --help           display help for command\n');

    const b = build();
    await b.program.parseAsync(['help', 'list']);
    expect(b.out.join('')).toContain('Usage: tool list [options]\n\nversions\n');

    const c = build();
    await c.program.parseAsync(['canary']);
    expect(c.out).toEqual([]);
    const group = c.err.join('');
    expect(group).toContain('Usage: tool canary [command]');
    expect(group).toMatch(/\n {2}weight <model> \[weight\] +change the canary's share\n/);

    const d = build();
    await d.program.parseAsync(['-h']);
    const top = d.out.join('');
    expect(top).toContain('--no-color');
    expect(top).not.toContain('--debug');
    expect(top).toMatch(/Commands:\n {2}list \[options\] +versions\n/);
  });

  it('wraps long descriptions under their column', () => {
    const cmd = new Command('tool').option('--x <v>', 'word '.repeat(30).trim());
    const lines = cmd.helpInformation().split('\n').filter((l) => l.includes('word'));
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[1]!.indexOf('word')).toBe(lines[0]!.indexOf('word'));
  });

  it('suggests near misses only', () => {
    expect(suggest('--quite', ['--quiet', '--json'])).toBe('--quiet');
    expect(suggest('promte', ['promote', 'rollback'])).toBe('promote');
    expect(suggest('xyz', ['promote', 'rollback'])).toBeUndefined();
  });
});
