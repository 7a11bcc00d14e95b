// Status is derived, never stored twice (SPEC 3.4).
import type { DeploymentsDoc, Status, VersionSummary } from './types.js';

export function deriveStatus(manifest: Pick<VersionSummary, 'version' | 'lifecycle'>, deployments: DeploymentsDoc): Status {
  if (manifest.lifecycle.state === 'archived') return 'archived';
  if (manifest.lifecycle.state === 'deprecated') return 'deprecated';
  if (deployments.production === manifest.version) return 'production';
  if (deployments.canary?.version === manifest.version) return 'canary';
  return 'staging';
}
