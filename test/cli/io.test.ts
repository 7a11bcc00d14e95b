// Output rendering: --json is indented for a person at a terminal and one line for a program.
import { describe, expect, it } from 'vitest';
import { Out } from '../../src/cli/io.js';

function out(isTTY: boolean) {
  const written: string[] = [];
  const io = { stdout: { write: (s: string) => written.push(s), isTTY }, stderr: { write: () => true }, env: {}, cwd: '/' };
  return { o: new Out(io, { json: true, quiet: false, color: false, debug: false }), written };
}

describe('Out.json', () => {
  const value = { model: 'm', versions: [{ version: 'v1.0.0', metrics: { auc: 0.8 } }] };

  it('writes one compact line when stdout is not a terminal', () => {
    const { o, written } = out(false);
    o.json(value);
    expect(written.join('')).toBe(JSON.stringify(value) + '\n');
  });

  it('indents by two spaces on a terminal', () => {
    const { o, written } = out(true);
    o.json(value);
    const text = written.join('');
    expect(text).toBe(JSON.stringify(value, null, 2) + '\n');
    expect(text.split('\n').length).toBeGreaterThan(3);
  });
});
