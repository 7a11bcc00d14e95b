// Some tests run the built `mlops` binary as users do: rebuild dist/ when it is missing or older
// than the sources (after `npm ci` it is fresh, as the package's prepare script builds it).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const bin = 'dist/cli/main.js';
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest('src')) return;
  // The package's own build (compile, assets, CLI bundle), not a copy of its steps.
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
