// Status is derived, never stored twice (SPEC 3.4).
import type { DeploymentsDoc, LifecycleState, ManifestDoc, Status } from './types.js';

export function deriveStatus(manifest: Pick<ManifestDoc, 'version' | 'lifecycle'>, deployments: DeploymentsDoc): Status {
  return statusOf(manifest.version, manifest.lifecycle.state, deployments);
}

export function statusOf(version: string, state: LifecycleState, deployments: DeploymentsDoc): Status {
  if (state === 'archived') return 'archived';
  if (state === 'deprecated') return 'deprecated';
  if (deployments.production === version) return 'production';
  if (deployments.canary?.version === version) return 'canary';
  return 'staging';
}
