// Use case: `mlops tags sync [--push]`. Registration tags are an index, never the source of
// truth (SPEC 3.5): for each manifest on the default branch, tag the first commit of that
// branch's first-parent line whose tree holds it. Existing tags are never moved.
import type { Problem } from '../errors.js';
import { parseRegistrationTag, registrationTag } from '../registry/semver.js';
import type { Context } from './context.js';

export interface TagsSyncResult {
  ref: string;
  created: Array<{ tag: string; commit: string }>;
  existing: number;
  problems: Problem[];
  pushed: string[];
}

const MANIFEST_PATH = /^registry\/([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\/versions\/(v\d+\.\d+\.\d+)\/manifest\.yaml$/;

export async function syncTags(ctx: Context, opts: { push?: boolean; ref?: string; dryRun?: boolean } = {}): Promise<TagsSyncResult> {
  const base = ctx.config.forge.base;
  const ref = opts.ref ?? ((await ctx.repo.currentBranch()) === base ? 'HEAD' : `refs/heads/${base}`);
  const result: TagsSyncResult = { ref, created: [], existing: 0, problems: [], pushed: [] };
  if (!(await ctx.repo.resolveRef(ref))) return result;

  // One log for all manifests: the first-parent commit that added each (oldest first).
  const out = await ctx.repo.runOk(['log', '--first-parent', '--reverse', '--diff-filter=A', '--name-only', '--format=%x1e%H', ref, '--', 'registry/*/versions/*/manifest.yaml']);
  const firstAdded = new Map<string, string>();
  for (const rec of out.split('\x1e')) {
    const [commit, ...paths] = rec.trim().split('\n');
    if (!commit) continue;
    for (const p of paths) if (MANIFEST_PATH.test(p) && !firstAdded.has(p)) firstAdded.set(p, commit);
  }
  // Manifests that are there now (a registration reverted later gets no new tag).
  const present = (await ctx.repo.runOk(['ls-tree', '-r', '--name-only', ref, '--', 'registry/'])).split('\n').filter((p) => MANIFEST_PATH.test(p));
  const tags = new Map((await ctx.repo.listTags()).map((t) => [t.name, t]));

  for (const path of present) {
    const [, model, version] = MANIFEST_PATH.exec(path)!;
    const name = registrationTag(model!, version!);
    const tag = tags.get(name);
    if (tag) {
      result.existing++;
      if (!(await ctx.repo.existsAt(tag.commit, path))) {
        result.problems.push({ code: 'TAG_MISPLACED', path: `refs/tags/${name}`, message: `tag ${name} points to ${tag.commit.slice(0, 12)}, whose tree has no ${path}`, hint: 'Tags are never moved by mlops; fix it by hand if it was never pushed.' });
      }
      continue;
    }
    // A manifest that came back after being reverted was first added earlier: that commit
    // holds it too, so the oldest addition is right either way.
    const commit = firstAdded.get(path);
    if (!commit) continue;
    if (!opts.dryRun) await ctx.repo.createTag(name, commit, `Registered ${model} ${version}\n`);
    result.created.push({ tag: name, commit });
  }

  if (opts.push && !opts.dryRun) {
    const ours = [...new Set([...tags.keys(), ...result.created.map((c) => c.tag)])].filter((t) => parseRegistrationTag(t));
    if (ours.length) {
      await ctx.repo.push(ctx.config.forge.remote, ours.map((t) => `refs/tags/${t}`));
      result.pushed = ours;
    }
  }
  return result;
}
