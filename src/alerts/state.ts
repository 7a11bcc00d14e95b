// What has been said about each open incident, so the hourly canary check alerts once per
// incident and kind instead of once per run, and retries only the notifiers that failed.
// Two homes for it:
// - a small JSON file (`.mlops/alerts-state.json`, git-ignored) for long-lived machines;
// - the incident issue itself, as a hidden `<!-- mlops-state: ... -->` marker in its body, for
//   CI, whose runners start empty every hour: the state lives as long as the incident's issue.
import { readFile } from 'node:fs/promises';
import { MlopsError } from '../errors.js';
import type { Forge } from '../forge/types.js';
import { readStateMarker, writeStateMarker } from '../forge/markers.js';
import { writeFileAtomic } from '../util/fs.js';
import type { AlertKind } from './types.js';

export interface IncidentKindState {
  first_at: string;
  last_at: string;
  /** Runs that raised this kind (suppressed ones included). */
  count: number;
  /** Ids of the notifiers that delivered it. */
  delivered: string[];
}

export interface IncidentState {
  incident: string;
  model: string;
  version?: string;
  opened_at: string;
  kinds: Partial<Record<AlertKind, IncidentKindState>>;
}

export interface AlertStateStore {
  /** Where the state lives, for messages. */
  readonly location: string;
  get(incident: string): Promise<IncidentState | null>;
  /** null: the incident is over, forget it. */
  set(incident: string, state: IncidentState | null): Promise<void>;
}

interface StateFile {
  apiVersion: 'mlops/v1';
  kind: 'AlertState';
  incidents: Record<string, IncidentState>;
}

function isIncidentState(v: unknown): v is IncidentState {
  const s = v as IncidentState;
  return !!s && typeof s === 'object' && typeof s.incident === 'string' && typeof s.opened_at === 'string' && !!s.kinds && typeof s.kinds === 'object';
}

/** The state in a JSON file; a missing file is an empty state. */
export function fileAlertState(path: string): AlertStateStore {
  async function load(): Promise<StateFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { apiVersion: 'mlops/v1', kind: 'AlertState', incidents: {} };
      throw e;
    }
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text) as StateFile;
    } catch (cause) {
      throw new MlopsError('ALERT_STATE_INVALID', `${path} is not valid JSON: ${(cause as Error).message}`, {
        cause,
        hint: `Delete ${path}: the next alert of each open incident is then sent again.`,
      });
    }
    if (!parsed || parsed.kind !== 'AlertState' || typeof parsed.incidents !== 'object' || parsed.incidents === null) {
      throw new MlopsError('ALERT_STATE_INVALID', `${path} is not an alert state file (kind: AlertState)`, {
        hint: `Delete ${path}: the next alert of each open incident is then sent again.`,
      });
    }
    return parsed;
  }
  return {
    location: path,
    async get(incident) {
      const s = (await load()).incidents[incident];
      return isIncidentState(s) ? s : null;
    },
    async set(incident, state) {
      const file = await load();
      if (state) file.incidents[incident] = state;
      else delete file.incidents[incident];
      await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n');
    },
  };
}

/**
 * The state in the incident's open issue. Without an open issue there is no incident: `get`
 * answers null and `set` has nowhere to write, so keep a `github-issue` notifier configured
 * beside this store. A closed issue ends the incident, as `recovered` does.
 */
export function issueAlertState(forge: Forge): AlertStateStore {
  return {
    location: `the incident issues of the ${forge.kind} forge`,
    async get(incident) {
      const issue = await forge.findIssue(incident);
      if (!issue) return null;
      const s = readStateMarker(issue.body);
      // An issue opened by an earlier run whose state write failed: the incident is open, its history unknown.
      return isIncidentState(s) ? s : { incident, model: '', opened_at: new Date(0).toISOString(), kinds: {} };
    },
    async set(incident, state) {
      if (!state) return; // the issue notifier closes the issue on `recovered`
      const issue = await forge.findIssue(incident);
      if (!issue) return;
      const body = writeStateMarker(issue.body, state);
      if (body !== issue.body) await forge.updateIssueBody(issue.number, incident, body);
    },
  };
}

/** In memory: for dry runs and tests. */
export function memoryAlertState(initial: Record<string, IncidentState> = {}): AlertStateStore & { incidents: Record<string, IncidentState> } {
  const incidents: Record<string, IncidentState> = structuredClone(initial);
  return {
    location: 'memory',
    incidents,
    async get(incident) {
      return incidents[incident] ? structuredClone(incidents[incident]!) : null;
    },
    async set(incident, state) {
      if (state) incidents[incident] = structuredClone(state);
      else delete incidents[incident];
    },
  };
}
