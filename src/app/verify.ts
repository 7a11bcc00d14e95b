// Use case: `mlops verify` checks every invariant of SPEC 3.4 and 5 and lists each problem with
// a stable code and the file path, all at once (never stopping at the first).
import { lstat, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isMlopsError, type Problem } from '../errors.js';
import { sha256File } from '../util/hash.js';
import { deploymentsFile, manifestFile, modelFile, REGISTRY_DIR, schemaFile, versionDir } from '../registry/paths.js';
import { parseRegistrationTag, isModelName } from '../registry/semver.js';
import type { ManifestDoc } from '../registry/types.js';
import type { Context } from './context.js';
import { statOrNull } from './registry-store.js';
import { readdirSync } from 'node:fs';
import { verifyData } from './data-verify.js';

export interface VerifyResult {
  ok: boolean;
  problems: Problem[];
  /** Not violations: things `mlops tags sync` or a human should look at. */
  notices: Problem[];
  checked: { models: number; versions: number; tags: number; shards: number };
}

function problemFrom(e: unknown, path: string): Problem {
  if (isMlopsError(e)) {
    const problems = (e.data?.problems as Problem[] | undefined) ?? null;
    return { code: e.code, path, message: problems ? problems.map((p) => (p.line ? `line ${p.line}: ${p.message}` : p.message)).join('; ') : e.message, hint: e.hint };
  }
  return { code: 'INTERNAL', path, message: String(e) };
}

/** Checks that a file declared in a manifest lies inside its version folder, symlinks included. */
async function checkFile(root: string, folder: string, file: { path: string; sha256: string; bytes: number }, archived: boolean, problems: Problem[]): Promise<void> {
  const rel = `${folder}/${file.path}`;
  const abs = join(root, folder, file.path);
  const folderAbs = join(root, folder);
  if (relative(folderAbs, abs).startsWith('..') || file.path.startsWith('/')) {
    problems.push({ code: 'ARTIFACT_PATH_ESCAPES', path: rel, message: `artifact path ${file.path} leaves its version folder`, hint: 'Artifact paths are file names inside the version folder.' });
    return;
  }
  const st = await lstat(abs).catch(() => null);
  if (!st) {
    // An archived version's artifact may leave the tree; its hash stays in the manifest (SPEC 3.7).
    if (!archived) problems.push({ code: 'ARTIFACT_NOT_FOUND', path: rel, message: `artifact ${file.path} is missing`, hint: 'Restore it from git history (`git checkout <commit> -- <path>`).' });
    return;
  }
  const real = await realpath(abs).catch(() => abs);
  const realFolder = await realpath(folderAbs).catch(() => folderAbs);
  if (!real.startsWith(realFolder + sep)) {
    problems.push({ code: 'ARTIFACT_PATH_ESCAPES', path: rel, message: `artifact ${file.path} is a link that leaves its version folder`, hint: 'Store the artifact itself in the version folder, not a symlink.' });
    return;
  }
  const { sha256, bytes } = await sha256File(abs);
  if (sha256 !== file.sha256) {
    problems.push({ code: 'ARTIFACT_HASH_MISMATCH', path: rel, message: `SHA-256 is ${sha256}, the manifest says ${file.sha256}`, hint: 'The artifact changed after registration: restore it, or register a new version.' });
  } else if (bytes !== file.bytes) {
    problems.push({ code: 'ARTIFACT_SIZE_MISMATCH', path: rel, message: `size is ${bytes} bytes, the manifest says ${file.bytes}`, hint: 'Fix the manifest size or restore the artifact.' });
  }
}

/**
 * The file checks of one version (empty when intact): its artifact files, and the feature
 * schema it was trained on. `schemaHashes` memoises schema hashes across versions.
 */
export async function checkVersionFiles(root: string, folder: string, m: ManifestDoc, schemaHashes = new Map<string, string | null>()): Promise<Problem[]> {
  const problems: Problem[] = [];
  const archived = m.lifecycle.state === 'archived';
  for (const f of [m.artifact, ...(m.artifact.files ?? [])]) await checkFile(root, folder, f, archived, problems);
  if (!schemaHashes.has(m.schema.version)) {
    const abs = join(root, schemaFile(m.schema.version));
    schemaHashes.set(m.schema.version, statOrNull(abs) ? (await sha256File(abs)).sha256 : null);
  }
  const schemaHash = schemaHashes.get(m.schema.version);
  const rel = `${folder}/manifest.yaml`;
  if (schemaHash === null) {
    problems.push({ code: 'SCHEMA_NOT_FOUND', path: rel, message: `feature schema ${m.schema.version} is missing (${schemaFile(m.schema.version)})`, hint: 'Restore the schema file from git history.' });
  } else if (schemaHash !== m.schema.sha256) {
    problems.push({ code: 'SCHEMA_HASH_MISMATCH', path: schemaFile(m.schema.version), message: `SHA-256 is ${schemaHash}, ${rel} says ${m.schema.sha256}`, hint: 'Schemas are immutable once used: restore it and write a new schema version instead.' });
  }
  return problems;
}

export async function verifyRegistry(ctx: Context): Promise<VerifyResult> {
  const problems: Problem[] = [];
  const notices: Problem[] = [];
  const checked = { models: 0, versions: 0, tags: 0, shards: 0 };
  const schemaHashes = new Map<string, string | null>();

  let folders: string[] = [];
  try {
    folders = readdirSync(join(ctx.root, REGISTRY_DIR), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'schemas').map((d) => d.name).sort();
  } catch {
    problems.push({ code: 'NOT_A_REGISTRY', path: REGISTRY_DIR, message: 'no registry/ folder here', hint: 'Run `mlops init` to create one.' });
  }
  const manifestsOnDisk = new Map<string, Set<string>>();
  for (const model of folders) {
    checked.models++;
    if (!isModelName(model)) {
      problems.push({ code: 'MODEL_NAME_INVALID', path: `${REGISTRY_DIR}/${model}`, message: `folder name "${model}" is not a valid model name` });
      continue;
    }
    let deployments = null;
    try {
      await ctx.store.readModel(model);
    } catch (e) {
      problems.push(problemFrom(e, modelFile(model)));
    }
    try {
      deployments = await ctx.store.readDeployments(model);
    } catch (e) {
      problems.push(problemFrom(e, deploymentsFile(model)));
    }
    const versions = new Map<string, ManifestDoc>();
    const seen = new Map<string, string>();
    for (const folder of ctx.store.listVersionFolders(model)) {
      const rel = manifestFile(model, folder);
      if (!statOrNull(join(ctx.root, rel))) {
        problems.push({ code: 'MANIFEST_INVALID', path: `${versionDir(model, folder)}`, message: 'version folder without manifest.yaml', hint: 'Remove the folder or restore its manifest.' });
        continue;
      }
      checked.versions++;
      let m: ManifestDoc;
      try {
        // Read without the identity check first, to report folder/version mismatches precisely.
        m = await ctx.store.readYaml<ManifestDoc>(rel, 'model-version', 'MANIFEST_INVALID', () => new Error('gone') as never);
      } catch (e) {
        problems.push(problemFrom(e, rel));
        continue;
      }
      if (m.version !== folder) {
        problems.push({ code: 'VERSION_FOLDER_MISMATCH', path: rel, message: `version ${m.version} differs from its folder name ${folder}`, hint: 'Folders are named after their version.' });
      }
      if (m.model !== model) problems.push({ code: 'MANIFEST_INVALID', path: rel, message: `model "${m.model}" differs from its folder "${model}"` });
      const other = seen.get(m.version);
      if (other) problems.push({ code: 'VERSION_DUPLICATE', path: rel, message: `version ${m.version} is also declared by ${other}`, hint: 'A version number belongs to one manifest.' });
      seen.set(m.version, rel);
      if (m.version === folder) versions.set(m.version, m);
      problems.push(...(await checkVersionFiles(ctx.root, versionDir(model, folder), m, schemaHashes)));
    }
    manifestsOnDisk.set(model, new Set(versions.keys()));
    if (deployments) {
      const pointers: Array<[string, string | null]> = [['production', deployments.production], ['canary', deployments.canary?.version ?? null]];
      for (const [stage, v] of pointers) {
        if (!v) continue;
        const m = versions.get(v);
        if (!m) problems.push({ code: 'POINTER_TO_MISSING_VERSION', path: deploymentsFile(model), message: `${stage} points to ${v}, which is not registered`, hint: 'Point it to a registered version, or restore the version.' });
        else if (m.lifecycle.state !== 'active') problems.push({ code: 'POINTER_TO_INACTIVE_VERSION', path: deploymentsFile(model), message: `${stage} points to ${v}, which is ${m.lifecycle.state}`, hint: 'Only active versions may serve.' });
      }
      if (deployments.canary && deployments.canary.version === deployments.production) {
        problems.push({ code: 'CANARY_IS_PRODUCTION', path: deploymentsFile(model), message: `canary and production are both ${deployments.production}`, hint: 'Clear the canary block (canary: null).' });
      }
    }
  }
  ctx.store.flush();

  // Registration tags: each must point to a commit whose tree holds its manifest.
  const tags = await ctx.repo.listTags();
  for (const t of tags) {
    const parsed = parseRegistrationTag(t.name);
    if (!parsed || !manifestsOnDisk.has(parsed.model)) continue;
    checked.tags++;
    if (!(await ctx.repo.existsAt(t.commit, manifestFile(parsed.model, parsed.version)))) {
      problems.push({ code: 'TAG_MISPLACED', path: `refs/tags/${t.name}`, message: `tag ${t.name} points to ${t.commit.slice(0, 12)}, whose tree has no ${manifestFile(parsed.model, parsed.version)}`, hint: 'Registration tags are immutable; delete the wrong tag only if it was never pushed, then run `mlops tags sync`.' });
    }
  }
  const tagNames = new Set(tags.map((t) => t.name));
  for (const [model, versions] of manifestsOnDisk) {
    for (const v of versions) {
      if (!tagNames.has(`${model}@${v}`)) notices.push({ code: 'TAG_MISSING', path: manifestFile(model, v), message: `no registration tag ${model}@${v} yet`, hint: 'Run `mlops tags sync` on the default branch.' });
    }
  }

  const shards = await verifyData({ dir: ctx.root });
  checked.shards = shards.checked;
  problems.push(...shards.problems);

  return { ok: problems.length === 0, problems, notices, checked };
}
