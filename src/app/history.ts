// Use case: the pointer history of a model, read from `git log` of its deployments.yaml
// (two git processes whatever the length: one log with blob ids, one batch read of the blobs).
import { deploymentsFile } from '../registry/paths.js';
import { classifyMove, type PointerMove } from '../registry/history.js';
import type { DeploymentsDoc } from '../registry/types.js';
import type { Context } from './context.js';
import { parseYaml } from '../util/yaml.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';

function parseDeploymentsBlob(blob: Buffer | undefined): { doc: DeploymentsDoc | null; valid: boolean } {
  if (!blob) return { doc: null, valid: true };
  try {
    const v = parseYaml(blob.toString('utf8'), 'deployments.yaml').value as DeploymentsDoc;
    if (!v || typeof v !== 'object') return { doc: null, valid: false };
    return { doc: v, valid: true };
  } catch {
    return { doc: null, valid: false };
  }
}

const HISTORY_CACHE_VERSION = 1;

/**
 * The pointer moves of a model, newest first. The whole history of HEAD is kept in
 * .mlops/cache with the commit it was read at: commits never change, so when HEAD has moved on
 * from that commit along a line without merges, only the commits since are read
 * (`<cached>..HEAD`) and put in front, which is exactly git log's order. Any other HEAD (a
 * merge, a rewritten or switched branch) reads it all again. With `ref`, `limit` or
 * `firstParent` the history is read directly.
 */
export async function readHistory(ctx: Context, model: string, opts: { ref?: string; limit?: number; firstParent?: boolean } = {}): Promise<PointerMove[]> {
  if (opts.ref || opts.limit || opts.firstParent) return readMoves(ctx, model, opts);
  const head = await ctx.repo.headOrNull();
  if (!head) return [];
  const file = join(ctx.root, '.mlops', 'cache', `history-${model}.json`);
  let cached: { version: number; tool: string; head: string; moves: PointerMove[] } | null = null;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    if (v && v.version === HISTORY_CACHE_VERSION && v.tool === TOOL_VERSION && typeof v.head === 'string' && Array.isArray(v.moves)) cached = v;
  } catch {
    // no cache yet
  }
  if (cached && cached.head === head) return cached.moves;
  const moves = cached && /^[0-9a-f]{40}$/.test(cached.head) && (await linearSince(ctx, cached.head, head))
    ? [...(await readMoves(ctx, model, { ref: `${cached.head}..${head}` })), ...cached.moves]
    : await readMoves(ctx, model, { ref: head });
  await writeFileAtomic(file, JSON.stringify({ version: HISTORY_CACHE_VERSION, tool: TOOL_VERSION, head, moves })).catch(() => undefined);
  return moves;
}

/** Whether `head` descends from `base` by commits without a merge among them. */
async function linearSince(ctx: Context, base: string, head: string): Promise<boolean> {
  if ((await ctx.repo.run(['merge-base', '--is-ancestor', base, head])).code !== 0) return false;
  const merges = await ctx.repo.run(['rev-list', '--merges', '--count', `${base}..${head}`]);
  return merges.code === 0 && merges.stdout.trim() === '0';
}

async function readMoves(ctx: Context, model: string, opts: { ref?: string; limit?: number; firstParent?: boolean }): Promise<PointerMove[]> {
  const entries = await ctx.repo.logPath(deploymentsFile(model), { ref: opts.ref, maxCount: opts.limit, firstParent: opts.firstParent });
  const blobs = await ctx.repo.readBlobs(entries.flatMap((e) => [e.before, e.after]).filter((b): b is string => !!b));
  const parsed = new Map<string, ReturnType<typeof parseDeploymentsBlob>>();
  const docOf = (oid: string | null | undefined) => {
    if (!oid) return { doc: null, valid: true };
    let p = parsed.get(oid);
    if (!p) parsed.set(oid, (p = parseDeploymentsBlob(blobs.get(oid))));
    return p;
  };
  return entries
    .filter((e) => e.before !== undefined || e.after !== undefined)
    .map((e) => {
      const before = docOf(e.before);
      const after = docOf(e.after);
      return classifyMove({
        commit: e.commit,
        date: e.date,
        committed_at: e.committerDate,
        author: e.author,
        subject: e.subject,
        message: e.message,
        before: before.doc,
        after: after.doc,
        valid: before.valid && after.valid,
      });
    });
}
