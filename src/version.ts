// The tool's own version, recorded in manifests (training.tool_version) and caches.
import { readFileSync } from 'node:fs';

export const TOOL_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
