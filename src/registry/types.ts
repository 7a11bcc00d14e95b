// The registry's documents (SPEC 3) as types. Field names follow the YAML files exactly.

export type Semver = `v${number}.${number}.${number}`;

export interface ModelDoc {
  apiVersion: 'mlops/v1';
  kind: 'Model';
  name: string;
  description?: string;
  task: 'binary-classification';
  schema_version: string;
  owners?: string[];
}

export interface CanaryPointer {
  version: string;
  weight: number;
  started_at: string;
}

export interface DeploymentsDoc {
  apiVersion: 'mlops/v1';
  kind: 'Deployments';
  model: string;
  production: string | null;
  canary: CanaryPointer | null;
}

export type LifecycleState = 'active' | 'deprecated' | 'archived';

export interface ArtifactFile {
  path: string;
  sha256: string;
  bytes: number;
}

export type Metrics = Record<string, number | null>;

export interface ManifestDoc {
  apiVersion: 'mlops/v1';
  kind: 'ModelVersion';
  model: string;
  version: string;
  created_at: string;
  parent: string | null;
  description?: string;
  artifact: ArtifactFile & { format: 'onnx'; files?: ArtifactFile[] };
  dataset: { name: string; sha256: string; rows: number | null; shards: number | null; path?: string };
  schema: { version: string; sha256: string };
  training: { trainer: 'gbdt' | 'logistic' | 'external'; params: Record<string, unknown>; seed: number | null; tool_version: string };
  metrics: Metrics;
  validation: {
    baseline: string | null;
    baseline_metrics: Metrics | null;
    threshold: number;
    max_regression?: number;
    passed: boolean;
    reasons?: string[];
  } | null;
  lifecycle: { state: LifecycleState; reason: string | null; at: string | null };
  observed: Observed;
}

/** Runtime facts recorded after registration (SPEC 6.5): the latest metrics snapshot and decisions. */
export interface Observed {
  metrics?: { at: string } & Record<string, unknown>;
  decisions?: Array<{ at: string; verdict: string; action: string } & Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * What `mlops list` needs of a manifest: its row and what the status derives from. Flat, with
 * the objects a row shows as they are, so that a thousand cached summaries parse into few
 * objects and a row reuses them.
 */
export interface VersionSummary {
  version: string;
  created_at: string;
  parent: string | null;
  dataset: Pick<ManifestDoc['dataset'], 'name' | 'sha256' | 'rows'>;
  schema: string;
  trainer: ManifestDoc['training']['trainer'];
  metrics: ManifestDoc['metrics'];
  state: LifecycleState;
  reason: string | null;
}

export type Status = 'production' | 'canary' | 'staging' | 'deprecated' | 'archived';

export type MlopsAction =
  | 'init'
  | 'register'
  | 'canary-start'
  | 'canary-weight'
  | 'canary-abort'
  | 'promote'
  | 'rollback'
  | 'deprecate'
  | 'archive'
  | 'metrics';

/** One registered version as loaded from the tree. */
export interface VersionEntry {
  manifest: ManifestDoc;
  /** Folder relative to the repository root: registry/<model>/versions/<version>. */
  folder: string;
}

/** Everything the planners need to know about one model, loaded from the working tree. */
export interface ModelState {
  model: ModelDoc;
  deployments: DeploymentsDoc;
  /** Keyed by version, as found in manifests. */
  versions: Map<string, VersionEntry>;
  /** Versions that exist only as registration tags (their registration was reverted). */
  taggedVersions: string[];
}
