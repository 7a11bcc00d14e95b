// The forge boundary's public surface: the interface, its two implementations and the factory.
export type {
  Forge,
  PullRequestSpec,
  PullRequest,
  EnsurePullRequestResult,
  IssueSpec,
  Issue,
  EnsureIssueResult,
  PushBranchResult,
} from './types.js';
export { GitHubForge, INCIDENT_LABEL, DEFAULT_API_URL, type GitHubForgeOptions } from './github.js';
export { LocalForge, type LocalForgeOptions, type MergeResult, type LocalPullRequestRecord, type LocalIssueRecord } from './local.js';
export { createForge, parseGitHubRemote, type CreateForgeOptions } from './create-forge.js';
export { incidentMarker, readStateMarker, writeStateMarker } from './markers.js';
export { redact } from './redact.js';
