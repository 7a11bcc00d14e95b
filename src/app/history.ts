// Use case: the pointer history of a model, read from `git log` of its deployments.yaml
// (two git processes whatever the length: one log with blob ids, one batch read of the blobs).
import { deploymentsFile } from '../registry/paths.js';
import { classifyMove, type PointerMove } from '../registry/history.js';
import type { DeploymentsDoc } from '../registry/types.js';
import type { Context } from './context.js';
import { parseYaml } from '../util/yaml.js';

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

export async function readHistory(ctx: Context, model: string, opts: { ref?: string; limit?: number; firstParent?: boolean } = {}): Promise<PointerMove[]> {
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
