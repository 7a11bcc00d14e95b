// Pointer history (SPEC 3.5): each commit that changed deployments.yaml becomes one move, read
// from its content before and after, so commits made by hand, plain `git revert`s and GitHub's
// revert button are understood as well as our own. Trailers, when present, name the action.
import { parseMlopsCommit, parseRevertMessage } from './commit-message.js';
import type { DeploymentsDoc, MlopsAction } from './types.js';

export type MoveKind = MlopsAction | 'revert' | 'manual';

export interface PointerMove {
  commit: string;
  /** Author date (ISO 8601). */
  date: string;
  /** Committer date: when the change landed on this line (a merge, a rebase). */
  committed_at: string;
  author: { name: string; email: string };
  subject: string;
  /** Our action from the trailers, 'revert' for a plain revert, 'manual' for any other commit. */
  kind: MoveKind;
  by: 'mlops' | 'git-revert' | 'hand';
  production: { from: string | null; to: string | null } | null;
  canary: { from: string | null; to: string | null } | null;
  weight: { from: number | null; to: number | null } | null;
  /** The commit this one reverts (from a Revert message or an Mlops-Reverts trailer). */
  reverts: string | null;
  reason: string | null;
  /** Whether the file was readable before/after (a broken hand edit shows as null). */
  valid: boolean;
}

export interface RawMove {
  commit: string;
  date: string;
  committed_at: string;
  author: { name: string; email: string };
  subject: string;
  message: string;
  before: DeploymentsDoc | null;
  after: DeploymentsDoc | null;
  valid: boolean;
}

function change<T>(from: T, to: T): { from: T; to: T } | null {
  return from === to ? null : { from, to };
}

export function classifyMove(raw: RawMove): PointerMove {
  const facts = parseMlopsCommit(raw.message);
  const revert = parseRevertMessage(raw.message);
  const b = raw.before;
  const a = raw.after;
  const production = change(b?.production ?? null, a?.production ?? null);
  const canary = change(b?.canary?.version ?? null, a?.canary?.version ?? null);
  const weight = change(b?.canary?.weight ?? null, a?.canary?.weight ?? null);
  let kind: MoveKind;
  let by: PointerMove['by'];
  if (revert) {
    kind = facts?.action === 'rollback' ? 'rollback' : 'revert';
    by = facts ? 'mlops' : 'git-revert';
  } else if (facts) {
    kind = facts.action;
    by = 'mlops';
  } else {
    kind = 'manual';
    by = 'hand';
  }
  return {
    commit: raw.commit,
    date: raw.date,
    committed_at: raw.committed_at,
    author: raw.author,
    subject: raw.subject,
    kind,
    by,
    production,
    canary,
    weight: canary ? null : weight,
    reverts: facts?.reverts ?? revert?.commit ?? null,
    reason: facts?.reason ?? null,
    valid: raw.valid,
  };
}

/** The newest move that put `version` into `stage` (the move a rollback undoes). */
export function lastMoveInto(moves: PointerMove[], stage: 'production' | 'canary', version: string): PointerMove | null {
  for (const m of moves) {
    const c = stage === 'production' ? m.production : m.canary;
    if (c && c.to === version) return m;
  }
  return null;
}
