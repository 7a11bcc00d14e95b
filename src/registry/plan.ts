// A plan is data: the file edits of one commit, its message, the tags to create and, for a
// rollback, the commit to revert. Planners are pure; one applier performs any plan.
import type { FileEdit } from '../git/repo.js';
import type { MlopsAction } from './types.js';

export interface PlannedTag {
  name: string;
  message: string;
}

export interface Plan {
  model: string;
  action: MlopsAction;
  version: string | null;
  previous: string | null;
  /** One line for humans: what the commit does. */
  summary: string;
  edits: FileEdit[];
  message: string;
  /** Annotated tags to create on the new commit (registration tags on the default branch). */
  tags: PlannedTag[];
  /** When set, the applier first tries `git revert` of this commit and only falls back to `edits`. */
  revert?: { commit: string; message: string };
}

/** The plan without file contents, for --dry-run and --json output. */
export function describePlan(plan: Plan): Record<string, unknown> {
  return {
    model: plan.model,
    action: plan.action,
    version: plan.version,
    previous: plan.previous,
    summary: plan.summary,
    files: plan.edits.map((e) => ({ path: e.path, change: e.content === null ? 'delete' : 'write', bytes: e.content === null ? 0 : typeof e.content === 'string' ? Buffer.byteLength(e.content) : e.content.byteLength })),
    message: plan.message,
    tags: plan.tags.map((t) => t.name),
    ...(plan.revert ? { revert: plan.revert.commit } : {}),
  };
}
