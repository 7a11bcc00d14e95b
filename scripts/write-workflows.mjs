// Regenerates this repository's .github/workflows and action.yml from mlops.config.json
// (the same generator `mlops init` uses). Run after `npm run build`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { workflowFiles, compositeAction } from '../dist/app/workflows.js';
import { loadConfig } from '../dist/config/config.js';

const { config } = await loadConfig({ dir: '.' });
for (const [path, text] of Object.entries(workflowFiles({ config, flavour: 'source' }))) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
writeFileSync('action.yml', compositeAction());
console.log('wrote action.yml');
