// What the pages are rendered from: the results of the library's read functions, gathered once
// by the dashboard use case (src/app/dashboard.ts). The renderers are pure functions of this.
// (Type-only imports of app results: the pages show exactly the objects the CLI prints.)
import type { ShowResult, VersionRow } from '../app/read.js';
import type { CanaryAnalysis } from '../app/canary-check.js';
import type { TrajectoryPoint } from '../canary/aggregate.js';
import type { IncidentState } from '../alerts/state.js';
import type { LockShard, MergeStrategy } from '../data/lock.js';
import type { PointerMove } from '../registry/history.js';
import type { DeploymentsDoc, ModelDoc } from '../registry/types.js';

export interface ErrorView {
  code: string;
  message: string;
  hint?: string;
}

export interface Thresholds {
  min_success_rate: number;
  max_error_rate: number;
  max_response_time_ms: number;
}

export interface CanaryView {
  /** The running canary's analysis, exactly what `mlops canary analyze --json` prints (plus the hourly fold). */
  analysis: CanaryAnalysis | null;
  /** Why there is no analysis (the metric source failed, the configuration is invalid...). */
  error: ErrorView | null;
  /** Λ of each stream at the end of every hour (outcome store only). */
  trajectory: TrajectoryPoint[] | null;
  thresholds: { canary: Thresholds; rollback: Thresholds; latency_quantile: number };
  source: 'outcomes' | 'prometheus';
}

export interface ModelView {
  name: string;
  doc: ModelDoc | null;
  deployments: DeploymentsDoc | null;
  /** `mlops list --model <name>`: newest version first. */
  rows: VersionRow[];
  /** `mlops show <name>@<version>` of every version, in the order of rows. */
  versions: ShowResult[];
  /** The text of each version's manifest.yaml as committed (shown verbatim on its page). */
  manifest_texts: Map<string, string>;
  /** `mlops history <name>`: newest move first. */
  history: PointerMove[];
  /** null when no canary is running. */
  canary: CanaryView | null;
  /** The model could not be read; the other fields are empty. */
  error: ErrorView | null;
}

export interface OutcomeMix {
  success: number;
  failure: number;
  error: number;
}

export interface WeekRows {
  /** Monday (UTC) of the week, YYYY-MM-DD. */
  week: string;
  mix: OutcomeMix;
}

export type ShardState = 'locked' | 'modified' | 'missing' | 'unchecked';

export interface ShardView extends LockShard {
  state: ShardState;
  /** Rows by week of their outcome timestamp and result; null when the shard was not read. */
  weeks: WeekRows[] | null;
}

export interface DatasetView {
  name: string;
  schema: string;
  merge_strategy: MergeStrategy;
  merged: { sha256: string; rows: number };
  shards: ShardView[];
  /** Whether every shard's outcome mix was read (else the page shows rows by shard date only). */
  mix: 'complete' | 'partial' | 'none';
  note: string | null;
}

export interface AlertsView {
  /** Where open incidents were read: the state file, nowhere (absent), or it failed. */
  source: 'file' | 'absent' | 'error';
  location: string;
  incidents: IncidentState[];
  error: ErrorView | null;
}

export interface DashboardData {
  /** The instant the site describes (canary verdicts are evaluated at it). */
  generated_at: string;
  head: { commit: string | null; branch: string | null };
  tool_version: string;
  models: ModelView[];
  datasets: DatasetView[];
  /** datasets.lock could not be read. */
  datasets_error: ErrorView | null;
  alerts: AlertsView;
  warnings: string[];
}

export type PageKind = 'overview' | 'datasets' | 'model' | 'history' | 'canary' | 'version';

export interface RenderedPage {
  path: string;
  kind: PageKind;
  title: string;
  html: string;
}
