// YAML reading and writing for every registry file: alias bombs are refused, errors carry
// the file and line, and values keep their source positions so validation can point at lines.
import { LineCounter, parseDocument, stringify, isNode, type Document } from 'yaml';
import { MlopsError } from '../errors.js';

/** Aliases a legitimate registry file never needs more of; a billion-laughs input hits it at once. */
const MAX_ALIAS_COUNT = 50;

export interface ParsedYaml {
  value: unknown;
  /** 1-based line of the node at a JSON pointer path ('/a/b/0'), or of its nearest parent. */
  lineAt(pointer: string): number | undefined;
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, strict: true });
  } catch (cause) {
    throw new MlopsError('YAML_PARSE_ERROR', `${file}: cannot parse YAML`, { cause, hint: 'Fix the YAML syntax.' });
  }
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new MlopsError('YAML_PARSE_ERROR', `${file}${line ? `:${line}` : ''}: ${first.message.split('\n')[0]}`, {
      hint: 'Fix the YAML syntax (duplicate keys and tabs are errors).',
      data: { file, line, errors: doc.errors.map((e) => e.message.split('\n')[0]) },
    });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    if (/alias/i.test(msg)) {
      throw new MlopsError('YAML_ALIAS_LIMIT', `${file}: too many YAML aliases (possible alias bomb)`, {
        cause,
        hint: `Registry files need no more than ${MAX_ALIAS_COUNT} aliases; write the values out.`,
      });
    }
    throw new MlopsError('YAML_PARSE_ERROR', `${file}: ${msg}`, { cause });
  }
  return {
    value,
    lineAt(pointer: string): number | undefined {
      const parts = pointer
        .split('/')
        .slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      for (let n = parts.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n).map((p) => (/^\d+$/.test(p) ? Number(p) : p)), true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** Block-style YAML with stable key order (as given) and no line folding, ending in one newline. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, minContentWidth: 0, nullStr: 'null', aliasDuplicateObjects: false });
}
