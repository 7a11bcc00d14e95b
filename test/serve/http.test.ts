// Body parsing: where a broken JSON or NDJSON body is broken, and the static file resolver.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonErrorOffset, parseJson, parseNdjson } from '../../src/serve/http.js';
import { resolveStaticFile } from '../../src/serve/static-files.js';
import { tempDir } from '../helpers/gitdir.js';

describe('jsonErrorOffset', () => {
  it('finds a stray character wherever it breaks a valid JSON text', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('#', '}', ']', ':', 'x', ','), (text, at, ch) => {
        const p = at % (text.length + 1);
        const broken = text.slice(0, p) + ch + text.slice(p);
        let valid = true;
        try {
          JSON.parse(broken);
        } catch {
          valid = false;
        }
        fc.pre(!valid);
        const off = jsonErrorOffset(broken);
        // The fault is at or after the insertion (the prefix before it was a valid JSON prefix)...
        expect(off).toBeGreaterThanOrEqual(Math.min(p, broken.length));
        // ...and for a character that is never valid outside a string, exactly there.
        if (ch === '#' && !insideString(text, p)) expect(off).toBe(p);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['{"a": x}', 6],
    ['', 0],
    ['[1,2', 4],
    ['{"a":1} x', 8],
    ['{"a":"\u0001"}', 6],
    ['"\\q"', 2],
    ['1.', 2],
    ['1e+', 3],
    ['01', 1],
    ['-', 1],
    ['tru', 3],
  ])('%j fails at %i', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});

function insideString(text: string, p: number): boolean {
  let inside = false;
  for (let i = 0; i < p; i++) {
    if (text[i] === '\\' && inside) i++;
    else if (text[i] === '"') inside = !inside;
  }
  return inside;
}

describe('parseJson and parseNdjson', () => {
  it('reports line and column of a syntax error', () => {
    expect(() => parseJson('{\n "a": 1,\n "b": ]\n}')).toThrow(expect.objectContaining({ code: 'JSON_INVALID', data: { position: { offset: 17, line: 3, column: 7 } } }));
  });

  it('skips blank lines, accepts CRLF and names the broken line and record', () => {
    expect(parseNdjson('{"a":1}\r\n\n  \n{"a":2}\n')).toEqual({ values: [{ a: 1 }, { a: 2 }], lines: [1, 4] });
    expect(() => parseNdjson('{"a":1}\n\n{"a":}\n')).toThrow(expect.objectContaining({ code: 'JSON_INVALID', data: { position: { index: 1, line: 3, column: 6, offset: 5 } } }));
  });
});

describe('resolveStaticFile', () => {
  it('resolves files inside the folder only', async () => {
    const root = tempDir();
    const site = join(root, 'site');
    mkdirSync(join(site, 'a'), { recursive: true });
    writeFileSync(join(site, 'a', 'x.css'), 'x');
    writeFileSync(join(site, 'index.html'), 'i');
    writeFileSync(join(root, 'outside.txt'), 'o');
    symlinkSync(join(root, 'outside.txt'), join(site, 'out.txt'));
    symlinkSync(join(site, 'a', 'x.css'), join(site, 'in.css'));
    expect((await resolveStaticFile(site, '/a/x.css'))?.path).toBe(join(site, 'a', 'x.css'));
    expect((await resolveStaticFile(site, '/'))?.path).toBe(join(site, 'index.html'));
    expect((await resolveStaticFile(site, '/in.css'))?.path).toBe(join(site, 'a', 'x.css')); // a link that stays inside
    for (const p of ['/../outside.txt', '/a/../../outside.txt', '/%2e%2e/outside.txt', '/out.txt', '/a', '/a%5c..%5c..%5coutside.txt', '/%ff']) {
      expect(await resolveStaticFile(site, p), p).toBeNull();
    }
  });
});
