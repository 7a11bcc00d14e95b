#!/usr/bin/env node
// Writes test/fixtures/github/openapi-extract.json: the few GitHub REST operations the forge
// calls, cut out of GitHub's official OpenAPI description (@octokit/openapi,
// generated/api.github.com.json) with every $ref resolved. The full document is 13 MB, so the
// contract server in test/helpers/github-server.ts validates requests against this extract and
// the package itself is not a dependency.
//
// Usage (the package is installed outside the project, then read from there):
//   npm install --prefix <dir> @octokit/openapi@23.0.2
//   node scripts/extract-github-openapi.mjs <dir>/node_modules/@octokit/openapi
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The operations GitHubForge uses; add one here when the forge starts calling it. */
export const OPERATIONS = [
  'pulls/list',
  'pulls/get',
  'pulls/create',
  'pulls/update',
  'issues/list-for-repo',
  'issues/get',
  'issues/create',
  'issues/update',
  'issues/create-comment',
  'issues/add-labels',
];

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Documentation-only keywords: dropping them keeps the extract small and ajv quiet.
const DROP_KEYS = new Set(['description', 'example', 'examples', 'externalDocs', 'x-github', 'title', 'summary']);

function resolvePointer(doc, ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = node?.[key];
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
  }
  return node;
}

/**
 * Deep copy with every $ref replaced by its target; a cycle is an error (request bodies have
 * none). `isPropertyMap` is true inside `properties`, whose keys are property names that may
 * well be called "description" or "title" and must stay.
 */
function inline(doc, node, refs = [], isPropertyMap = false) {
  if (Array.isArray(node)) return node.map((n) => inline(doc, n, refs));
  if (node === null || typeof node !== 'object') return node;
  if (!isPropertyMap && typeof node.$ref === 'string') {
    if (refs.includes(node.$ref)) throw new Error(`cyclic $ref ${[...refs, node.$ref].join(' -> ')}`);
    return inline(doc, resolvePointer(doc, node.$ref), [...refs, node.$ref]);
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (!isPropertyMap && DROP_KEYS.has(k)) continue;
    out[k] = inline(doc, v, refs, !isPropertyMap && k === 'properties');
  }
  return out;
}

export function extract(doc, packageVersion, operationIds = OPERATIONS) {
  const found = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op || !operationIds.includes(op.operationId)) continue;
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => {
        const r = inline(doc, p);
        return { name: r.name, in: r.in, required: r.required === true, schema: r.schema ?? {} };
      });
      const json = op.requestBody ? inline(doc, op.requestBody) : null;
      const success = Object.keys(op.responses ?? {}).filter((c) => /^2\d\d$/.test(c)).sort();
      found.set(op.operationId, {
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        parameters,
        requestBody: json
          ? { required: json.required === true, schema: json.content?.['application/json']?.schema ?? {} }
          : null,
        successStatus: Number(success[0] ?? 200),
      });
    }
  }
  const missing = operationIds.filter((id) => !found.has(id));
  if (missing.length) throw new Error(`operations not in the description: ${missing.join(', ')}`);
  return {
    source: {
      package: '@octokit/openapi',
      version: packageVersion,
      file: 'generated/api.github.com.json',
      openapi: doc.openapi,
      api_version: doc.info?.version ?? null,
    },
    operations: operationIds.map((id) => found.get(id)),
  };
}

function main() {
  const pkgDir = resolve(process.argv[2] ?? 'node_modules/@octokit/openapi');
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.name !== '@octokit/openapi') throw new Error(`${pkgDir} is not the @octokit/openapi package`);
  const doc = JSON.parse(readFileSync(join(pkgDir, 'generated', 'api.github.com.json'), 'utf8'));
  const out = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'github', 'openapi-extract.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(extract(doc, pkg.version), null, 2) + '\n');
  console.log(`wrote ${OPERATIONS.length} operations from @octokit/openapi ${pkg.version}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
