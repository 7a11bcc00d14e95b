// The checks both forges make before touching anything, so they refuse the same specs alike.
import { MlopsError } from '../errors.js';
import type { PullRequestSpec } from './types.js';

export function checkPullRequestSpec(spec: PullRequestSpec): void {
  if (!spec.head || !spec.base || spec.head === spec.base) {
    throw new MlopsError('INVALID_ARGUMENT', `a pull request needs a head branch different from its base (head "${spec.head}", base "${spec.base}")`, {
      hint: 'Commit the change on its own branch (e.g. mlops/retrain/<model>) and open the PR from there.',
    });
  }
}
