// Manifest and model documents: building and writing them (SPEC 3.1, 3.2).
import { toYaml } from '../util/yaml.js';
import type { ManifestDoc, ModelDoc } from './types.js';

const SCHEMA_BASE = 'https://unpkg.com/mlops-gitops/dist/schemas';

export function schemaComment(schemaFile: string): string {
  return `# yaml-language-server: $schema=${SCHEMA_BASE}/${schemaFile}\n`;
}

/** Key order of SPEC 3.2, whatever order the object was built in. */
const MANIFEST_KEYS: Array<keyof ManifestDoc> = [
  'apiVersion', 'kind', 'model', 'version', 'created_at', 'parent', 'description', 'artifact', 'dataset',
  'schema', 'training', 'metrics', 'validation', 'lifecycle', 'observed',
];

export function serializeManifest(doc: ManifestDoc): string {
  const ordered: Record<string, unknown> = {};
  for (const k of MANIFEST_KEYS) if (doc[k] !== undefined) ordered[k] = doc[k];
  return schemaComment('model-version.schema.json') + toYaml(ordered);
}

export function serializeModel(doc: ModelDoc): string {
  return schemaComment('model.schema.json') + toYaml(doc);
}

export function newModelDoc(args: { name: string; schemaVersion: string; description?: string; owners?: string[] }): ModelDoc {
  return {
    apiVersion: 'mlops/v1',
    kind: 'Model',
    name: args.name,
    description: args.description ?? `Probability that an automated ${args.name.replace(/-/g, ' ')} action succeeds`,
    task: 'binary-classification',
    schema_version: args.schemaVersion,
    owners: args.owners ?? [],
  };
}
