// Bundles the start-up path of the `mlops` command into dist/cli/main.js (over tsc's output):
// the command line, the registry commands and the read path (`list`, `show`, `get`) in one file,
// instead of some twenty modules that Node's ES module loader resolves, reads and links one by
// one (about 13 ms of `mlops list`'s 75). Every other module a command imports when it runs is
// left where tsc wrote it and loaded from there, as before; those modules bring their own copy
// of the shared ones (errors.js, context.js ...), which is why MlopsErrors are recognised by a
// brand rather than by class (src/errors.ts). Packages stay in node_modules.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import * as esbuild from 'esbuild';

const entry = resolve('dist/cli/main.js');
const outDir = dirname(entry);
/** Loaded by `import()` yet part of the bundle: what `list`, `show` and `get` run. */
const BUNDLED = new Set(['app/read.js', 'app/context.js'].map((p) => resolve('dist', p)));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const keepDynamicImportsOut = {
  name: 'keep-dynamic-imports-out',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const target = resolve(args.resolveDir, args.path);
      if (BUNDLED.has(target)) return undefined;
      // The same file, addressed from where the bundle is.
      const path = relative(outDir, target).split('\\').join('/');
      return { path: path.startsWith('.') ? path : `./${path}`, external: true };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [entry],
  bundle: true,
  write: false,
  outfile: entry,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  define: { MLOPS_BUNDLED_VERSION: JSON.stringify(pkg.version) },
  plugins: [keepDynamicImportsOut],
  logLevel: 'warning',
});
// Written beside and renamed: the bundle replaces its own entry file.
for (const file of result.outputFiles) {
  writeFileSync(`${file.path}.tmp`, file.contents);
  renameSync(`${file.path}.tmp`, file.path);
}
chmodSync(entry, 0o755);
