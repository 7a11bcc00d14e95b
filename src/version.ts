// The tool's own version, recorded in manifests (training.tool_version) and caches.
import { readFileSync } from 'node:fs';

// Set by the CLI bundler (scripts/bundle-cli.mjs): the bundle does not sit below ../package.json.
declare const MLOPS_BUNDLED_VERSION: string | undefined;

export const TOOL_VERSION: string = (() => {
  if (typeof MLOPS_BUNDLED_VERSION === 'string') return MLOPS_BUNDLED_VERSION;
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
