// deployments.yaml: the stage pointers (SPEC 3.3). Written by hand-rolled code, not a YAML
// library, so the production line and the canary block are always separate hunks with a
// blank line between them: `git revert` of one move then rarely conflicts with another.
import type { CanaryPointer, DeploymentsDoc } from './types.js';

export function emptyDeployments(model: string): DeploymentsDoc {
  return { apiVersion: 'mlops/v1', kind: 'Deployments', model, production: null, canary: null };
}

function weightText(w: number): string {
  // Shortest exact decimal form; weights like 0.1 must not print as 0.10000000000000001.
  return String(Number(w.toPrecision(12)));
}

export function serializeDeployments(d: DeploymentsDoc): string {
  const head = [
    '# yaml-language-server: $schema=https://unpkg.com/mlops-gitops/dist/schemas/deployments.schema.json',
    'apiVersion: mlops/v1',
    'kind: Deployments',
    `model: ${d.model}`,
    `production: ${d.production ?? 'null'}`,
  ];
  const canary = d.canary
    ? ['canary:', `  version: ${d.canary.version}`, `  weight: ${weightText(d.canary.weight)}`, `  started_at: ${d.canary.started_at}`]
    : ['canary: null'];
  return `${head.join('\n')}\n\n${canary.join('\n')}\n`;
}

export function withProduction(d: DeploymentsDoc, production: string | null): DeploymentsDoc {
  return { ...d, production };
}

export function withCanary(d: DeploymentsDoc, canary: CanaryPointer | null): DeploymentsDoc {
  return { ...d, canary };
}
