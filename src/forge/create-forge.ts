// Picks the forge from the `forge` section of mlops.config.json and the environment, the same
// way in a workflow and on a laptop: config first, then what GitHub Actions sets, then the remote.
import { MlopsError } from '../errors.js';
import type { MlopsConfig } from '../config/config.js';
import type { GitRepo } from '../git/repo.js';
import { GitHubForge, DEFAULT_API_URL, type GitHubForgeOptions } from './github.js';
import { LocalForge } from './local.js';
import type { Forge } from './types.js';

export interface CreateForgeOptions {
  config: MlopsConfig['forge'];
  repo: GitRepo;
  env?: NodeJS.ProcessEnv;
  /** Warnings of the GitHub client (rate-limit waits), already redacted. */
  log?: (line: string) => void;
  /** Fine-tuning of the GitHub client (timeouts, retries); tests shrink the waits. */
  github?: Partial<Omit<GitHubForgeOptions, 'repository' | 'token' | 'apiUrl'>>;
}

/**
 * `forge.type: local` -> LocalForge. `github` -> GitHubForge with:
 * - repository: forge.repository, else GITHUB_REPOSITORY, else the GitHub URL of forge.remote;
 * - API URL: forge.api_url, else GITHUB_API_URL, else https://api.github.com;
 * - token: MLOPS_TOKEN, else GITHUB_TOKEN (a missing token fails the first call, not this one).
 */
export async function createForge({ config, repo, env = process.env, log, github }: CreateForgeOptions): Promise<Forge> {
  if (config.type === 'local') return new LocalForge({ repo, remote: config.remote });
  const repository = config.repository || env.GITHUB_REPOSITORY || (await repositoryFromRemote(repo, config.remote));
  if (!repository) {
    throw new MlopsError('CONFIG_INVALID', `forge.type is github but the repository is unknown (no forge.repository, no GITHUB_REPOSITORY, and remote ${config.remote} is not a GitHub URL)`, {
      hint: 'Set "forge": { "type": "github", "repository": "owner/name" } in mlops.config.json.',
    });
  }
  return new GitHubForge({
    ...github,
    repository,
    token: env.MLOPS_TOKEN || env.GITHUB_TOKEN || undefined,
    apiUrl: config.api_url || env.GITHUB_API_URL || DEFAULT_API_URL,
    remote: config.remote,
    log,
  });
}

/** `owner/name` from git@github.com:owner/name.git, https://github.com/owner/name(.git), ssh://... */
export function parseGitHubRemote(url: string): string | null {
  const m = /^(?:https?:\/\/(?:[^@/]+@)?|ssh:\/\/(?:[^@/]+@)?|[^@/]+@)?github\.com[:/]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url.trim());
  return m ? `${m[1]}/${m[2]}` : null;
}

async function repositoryFromRemote(repo: GitRepo, remote: string): Promise<string | null> {
  const r = await repo.run(['remote', 'get-url', remote]);
  return r.code === 0 ? parseGitHubRemote(r.stdout) : null;
}
