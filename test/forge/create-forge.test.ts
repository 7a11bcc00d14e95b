import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { GitRepo } from '../../src/git/repo.js';
import { createForge, parseGitHubRemote } from '../../src/forge/create-forge.js';
import { GitHubForge } from '../../src/forge/github.js';
import { LocalForge } from '../../src/forge/local.js';
import { gitdir } from '../helpers/gitdir.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';

const fast = { retries: 0, retryBaseMs: 1, writeSpacingMs: 0 };
let server: GitHubServer | undefined;
afterEach(async () => {
  if (server) {
    expect(server.violations).toEqual([]);
    await server.close();
    server = undefined;
  }
});

describe('createForge', () => {
  it('gives the local forge for forge.type local', async () => {
    const repo = await GitRepo.open(gitdir({ a: '1' }).dir);
    expect(await createForge({ config: defaultConfig().forge, repo, env: {} })).toBeInstanceOf(LocalForge);
  });

  it('takes the repository from the config, then GITHUB_REPOSITORY, then the remote', async () => {
    const t = gitdir({ a: '1' });
    const repo = await GitRepo.open(t.dir);
    const config = { ...defaultConfig().forge, type: 'github' as const };
    const f1 = await createForge({ config: { ...config, repository: 'acme/models' }, repo, env: { GITHUB_REPOSITORY: 'other/repo' } });
    expect(f1).toBeInstanceOf(GitHubForge);
    expect((f1 as GitHubForge).owner).toBe('acme');
    const f2 = (await createForge({ config, repo, env: { GITHUB_REPOSITORY: 'other/repo' } })) as GitHubForge;
    expect([f2.owner, f2.repo]).toEqual(['other', 'repo']);
    await expect(createForge({ config, repo, env: {} })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    t.git('remote', 'add', 'origin', 'git@github.com:seo-ml/registry.git');
    const f3 = (await createForge({ config, repo, env: {} })) as GitHubForge;
    expect([f3.owner, f3.repo]).toEqual(['seo-ml', 'registry']);
  });

  it('uses MLOPS_TOKEN before GITHUB_TOKEN, and GITHUB_API_URL when the config names none', async () => {
    server = await startGitHubServer({ token: 'mlops-token-value' });
    const repo = await GitRepo.open(gitdir({ a: '1' }).dir);
    const config = { ...defaultConfig().forge, type: 'github' as const, repository: `${server.owner}/${server.repo}` };
    const forge = await createForge({
      config,
      repo,
      env: { MLOPS_TOKEN: 'mlops-token-value', GITHUB_TOKEN: 'actions-token-value', GITHUB_API_URL: server.url },
      github: fast,
    });
    expect(await forge.findOpenPullRequest('x')).toBeNull();
    expect(server.requests[0]!.headers.authorization).toBe('token mlops-token-value');

    const fallback = await createForge({ config, repo, env: { GITHUB_TOKEN: 'actions-token-value', GITHUB_API_URL: server.url }, github: fast });
    await expect(fallback.findOpenPullRequest('x')).rejects.toMatchObject({ code: 'FORGE_AUTH' });
    expect(server.requests[1]!.headers.authorization).toBe('token actions-token-value');

    const none = await createForge({ config, repo, env: { GITHUB_API_URL: server.url }, github: fast });
    await expect(none.findOpenPullRequest('x')).rejects.toMatchObject({ code: 'FORGE_TOKEN_MISSING' });
  });
});

describe('parseGitHubRemote', () => {
  it.each([
    ['git@github.com:acme/models.git', 'acme/models'],
    ['https://github.com/acme/models', 'acme/models'],
    ['https://github.com/acme/models.git', 'acme/models'],
    ['https://x-access-token:abc@github.com/acme/my.models.git', 'acme/my.models'],
    ['ssh://git@github.com/acme/models.git', 'acme/models'],
    ['https://gitlab.com/acme/models.git', null],
    ['/srv/git/models.git', null],
  ])('%s -> %s', (url, expected) => {
    expect(parseGitHubRemote(url)).toBe(expected);
  });
});
