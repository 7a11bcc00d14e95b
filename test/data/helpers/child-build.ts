// Child processes in tests run the real source: the data layer is transpiled (type-stripped, no
// bundling) into test-artifacts/ inside the repository, so `ajv`, `yaml` and the other packages
// resolve from the project's node_modules exactly as they do for the tests themselves.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let built: string | undefined;

// Removed after the test file that built it (workers may be ended without an 'exit' event).
afterAll(() => {
  if (built) rmSync(built, { recursive: true, force: true });
  built = undefined;
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Transpiles src/data, src/util and src/errors.ts once per test process; returns the output root. */
export function buildForChildren(): string {
  if (built) return built;
  const out = join(root, 'test-artifacts', `data-child-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const files = [join(root, 'src', 'errors.ts'), ...walk(join(root, 'src', 'data')), ...walk(join(root, 'src', 'util'))].filter((f) => f.endsWith('.ts'));
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(f, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: f,
    }).outputText;
    const dest = join(out, relative(root, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  cpSync(join(root, 'src', 'schemas'), join(out, 'src', 'schemas'), { recursive: true });
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  built = out;
  return out;
}
