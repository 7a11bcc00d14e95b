// JSON Schema validation of every file format (ajv, all errors at once). The schemas live in
// src/schemas/ and are shipped beside the compiled code for editors too.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { MlopsError, type ErrorCode, type Problem } from '../errors.js';
import { parseYaml } from './yaml.js';

export type SchemaName =
  | 'model'
  | 'model-version'
  | 'deployments'
  | 'dataset-lock'
  | 'config'
  | 'outcome'
  | 'feature-schema';

let ajv: Ajv | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

export function schemaUrl(name: SchemaName): URL {
  return new URL(`../schemas/${name}.schema.json`, import.meta.url);
}

export function getValidator(name: SchemaName): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    ajv ??= (() => {
      const a = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
      addFormats.default(a);
      return a;
    })();
    const schema = JSON.parse(readFileSync(schemaUrl(name), 'utf8'));
    fn = ajv.compile(schema);
    compiled.set(name, fn);
  }
  return fn;
}

/** Human wording of one ajv error, naming the offending key for additionalProperties. */
export function describeAjvError(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'required') return `${where}: missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'enum') return `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'const') return `${where}: must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/**
 * Validates a value against a schema and returns every problem (empty when valid).
 * `lineAt` maps a JSON pointer to a source line when the value came from YAML.
 */
export function validateValue(
  name: SchemaName,
  value: unknown,
  opts: { file: string; code: ErrorCode; lineAt?: (pointer: string) => number | undefined },
): Problem[] {
  const fn = getValidator(name);
  if (fn(value)) return [];
  const errors = (fn.errors ?? []).filter(
    // oneOf/if wrappers repeat what their branches already said
    (e) => e.keyword !== 'oneOf' && e.keyword !== 'if',
  );
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const e of errors.length ? errors : fn.errors ?? []) {
    const message = describeAjvError(e);
    if (seen.has(message)) continue;
    seen.add(message);
    const pointer = e.keyword === 'additionalProperties'
      ? `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`
      : e.instancePath;
    problems.push({ code: opts.code, path: opts.file, line: opts.lineAt?.(pointer), message });
  }
  return problems;
}

/** Throws one error listing all problems; no-op when the list is empty. */
export function throwProblems(code: ErrorCode, file: string, problems: Problem[], hint?: string): void {
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  - ${p.line ? `line ${p.line}: ` : ''}${p.message}`);
  throw new MlopsError(code, `${file} is not valid:\n${lines.join('\n')}`, {
    hint: hint ?? `Fix the listed keys; the format is described by ${schemaUrl(nameForCode(code) ?? 'model').pathname.split('/').pop()}.`,
    data: { file, problems },
  });
}

function nameForCode(code: ErrorCode): SchemaName | undefined {
  switch (code) {
    case 'MANIFEST_INVALID': return 'model-version';
    case 'DEPLOYMENTS_INVALID': return 'deployments';
    case 'LOCK_INVALID': return 'dataset-lock';
    case 'CONFIG_INVALID': return 'config';
    case 'OUTCOME_INVALID': return 'outcome';
    case 'FEATURE_SCHEMA_INVALID': return 'feature-schema';
    default: return undefined;
  }
}

/** Parses YAML text and validates it; throws `code` with every problem and its line. */
export function parseAndValidateYaml<T>(text: string, file: string, name: SchemaName, code: ErrorCode): T {
  const parsed = parseYaml(text, file);
  throwProblems(code, file, validateValue(name, parsed.value, { file, code, lineAt: parsed.lineAt }));
  return parsed.value as T;
}
