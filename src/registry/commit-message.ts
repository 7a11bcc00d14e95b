// Commit messages of state changes (SPEC 3.5): subject `mlops(<model>): <action> <version>`,
// then an optional body, then the Mlops-* trailers that `mlops history` reads back.
import type { MlopsAction } from './types.js';

export interface CommitInfo {
  model: string;
  action: MlopsAction;
  version: string | null;
  previous: string | null;
  body?: string;
  /** Extra trailers, e.g. { 'Mlops-Reverts': sha, 'Mlops-Reason': text }. */
  trailers?: Record<string, string>;
}

export function commitSubject(model: string, action: MlopsAction, version: string | null): string {
  return `mlops(${model}): ${action}${version ? ` ${version}` : ''}`;
}

/** Trailer values are single lines: newlines would break `git interpret-trailers` parsing. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim();
}

export function trailerBlock(info: Omit<CommitInfo, 'body'>): string {
  const lines = [
    `Mlops-Action: ${info.action}`,
    `Mlops-Model: ${info.model}`,
    ...(info.version ? [`Mlops-Version: ${info.version}`] : []),
    `Mlops-Previous: ${info.previous ?? 'none'}`,
    ...Object.entries(info.trailers ?? {}).map(([k, v]) => `${k}: ${oneLine(v)}`),
  ];
  return lines.join('\n');
}

export function formatCommitMessage(info: CommitInfo): string {
  const parts = [commitSubject(info.model, info.action, info.version)];
  if (info.body?.trim()) parts.push(info.body.trim());
  parts.push(trailerBlock(info));
  return parts.join('\n\n') + '\n';
}

/** The trailers of a commit message: the last paragraph's `Key: value` lines. */
export function parseTrailers(message: string): Record<string, string> {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  if (paragraphs.length < 2) return {};
  const last = paragraphs[paragraphs.length - 1]!.split('\n');
  const out: Record<string, string> = {};
  for (const line of last) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*):\s?(.*)$/.exec(line);
    if (!m) return {}; // not a trailer block
    out[m[1]!] = m[2]!.trim();
  }
  return out;
}

export interface ParsedMlopsCommit {
  action: MlopsAction;
  model: string;
  version: string | null;
  previous: string | null;
  reverts: string | null;
  reason: string | null;
}

/** The Mlops-* facts of a commit, or null when it carries none (a hand-made or plain revert commit). */
export function parseMlopsCommit(message: string): ParsedMlopsCommit | null {
  const t = parseTrailers(message);
  if (!t['Mlops-Action'] || !t['Mlops-Model']) return null;
  const none = (v: string | undefined) => (v && v !== 'none' ? v : null);
  return {
    action: t['Mlops-Action'] as MlopsAction,
    model: t['Mlops-Model'],
    version: none(t['Mlops-Version']),
    previous: none(t['Mlops-Previous']),
    reverts: none(t['Mlops-Reverts']),
    reason: none(t['Mlops-Reason']),
  };
}

/** `Revert "<subject>"` and the reverted sha from git's default revert message. */
export function parseRevertMessage(message: string): { subject: string; commit: string | null } | null {
  const m = /^Revert "(.*)"$/.exec(message.split('\n')[0] ?? '');
  if (!m) return null;
  const c = /This reverts commit ([0-9a-f]{7,40})/.exec(message);
  return { subject: m[1]!, commit: c ? c[1]! : null };
}
