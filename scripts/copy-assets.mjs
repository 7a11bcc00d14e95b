// Copies the JSON Schemas next to the compiled code, where src/schemas/index.ts finds them at run time.
import { cpSync, chmodSync, existsSync } from 'node:fs';

cpSync('src/schemas', 'dist/schemas', { recursive: true, filter: (p) => !p.endsWith('.ts') });
if (existsSync('src/dashboard/assets')) cpSync('src/dashboard/assets', 'dist/dashboard/assets', { recursive: true });
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755);
