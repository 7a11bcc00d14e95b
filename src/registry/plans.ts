// Planners of every registry state change (SPEC 3.5–3.8). Each is a pure function of the model's
// state, the request and `now`, returning one Plan (one commit) or throwing an MlopsError that
// says which rule refused the change. Nothing here touches files, git or the clock.
import { MlopsError } from '../errors.js';
import { formatCommitMessage } from './commit-message.js';
import { serializeDeployments, withCanary, withProduction } from './deployments.js';
import { serializeManifest } from './manifest.js';
import { deploymentsFile, manifestFile, versionDir } from './paths.js';
import type { Plan } from './plan.js';
import { registrationTag, type Bump } from './semver.js';
import { deriveStatus } from './status.js';
import { nextVersion } from './version-rule.js';
import type { DeploymentsDoc, ManifestDoc, Metrics, ModelState, Observed, VersionEntry } from './types.js';

/** A decision record of the canary judge, written into `observed.decisions` with the act. */
export type DecisionRecord = { at: string; verdict: string; action: string } & Record<string, unknown>;

function entryOf(state: ModelState, version: string): VersionEntry {
  const e = state.versions.get(version);
  if (!e) {
    const known = [...state.versions.keys()];
    throw new MlopsError('VERSION_NOT_FOUND', `${state.model.name}@${version} is not registered`, {
      hint: known.length ? `Registered versions: ${known.join(', ')}.` : `Register one with \`mlops register --model ${state.model.name} ...\`.`,
    });
  }
  return e;
}

function requireActive(state: ModelState, version: string, doing: string): VersionEntry {
  const e = entryOf(state, version);
  if (e.manifest.lifecycle.state !== 'active') {
    throw new MlopsError('VERSION_NOT_ACTIVE', `cannot ${doing} ${state.model.name}@${version}: it is ${e.manifest.lifecycle.state} (${e.manifest.lifecycle.reason ?? 'no reason given'})`, {
      hint: 'Only active versions can serve; register a new version instead.',
    });
  }
  return e;
}

function deploymentsEdit(d: DeploymentsDoc) {
  return { path: deploymentsFile(d.model), content: serializeDeployments(d) };
}

function manifestEdit(m: ManifestDoc) {
  return { path: manifestFile(m.model, m.version), content: serializeManifest(m) };
}

function withDecision(m: ManifestDoc, decision: DecisionRecord | undefined): ManifestDoc {
  if (!decision) return m;
  const observed: Observed = { ...m.observed, decisions: [...(m.observed.decisions ?? []), decision] };
  return { ...m, observed };
}

// ---------------------------------------------------------------- register

export interface ArtifactInput {
  /** File name inside the version folder, e.g. model.onnx. */
  name: string;
  bytes: Uint8Array;
  sha256: string;
}

export interface RegisterRequest {
  artifact: ArtifactInput;
  /** Files the artifact needs beside it (e.g. features.json, the fitted featurizer state). */
  sidecars?: ArtifactInput[];
  dataset: ManifestDoc['dataset'];
  schema: ManifestDoc['schema'];
  training: ManifestDoc['training'];
  metrics: Metrics;
  validation?: ManifestDoc['validation'];
  description?: string;
  bump?: Bump;
  version?: string;
  /** Extra text for the commit body. */
  message?: string;
  /** Create the registration tag on the new commit (only on the default branch, SPEC 3.5). */
  tag: boolean;
}

const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function planRegister(state: ModelState, req: RegisterRequest, now: string): Plan & { manifest: ManifestDoc } {
  const model = state.model.name;
  for (const f of [req.artifact, ...(req.sidecars ?? [])]) {
    if (!ARTIFACT_NAME.test(f.name) || f.name === 'manifest.yaml') {
      throw new MlopsError('ARTIFACT_PATH_ESCAPES', `artifact file name "${f.name}" is not allowed in a version folder`, {
        hint: 'Artifacts are plain file names (letters, digits, ".", "_", "-") stored inside the version folder.',
      });
    }
  }
  const names = [req.artifact.name, ...(req.sidecars ?? []).map((s) => s.name)];
  if (new Set(names).size !== names.length) {
    throw new MlopsError('INVALID_ARGUMENT', `two artifact files are both named ${names.find((n, i) => names.indexOf(n) !== i)}`, { hint: 'Give each file of a version its own name.' });
  }
  const parentVersion = state.deployments.production;
  const parent = parentVersion ? state.versions.get(parentVersion)?.manifest ?? null : null;
  const existing = new Set([...state.versions.keys(), ...state.taggedVersions]);
  const { version, bump } = nextVersion({
    existing,
    parent,
    schemaVersion: req.schema.version,
    datasetSha256: req.dataset.sha256,
    params: req.training.params,
    bump: req.bump,
    explicit: req.version,
  });
  const manifest: ManifestDoc = {
    apiVersion: 'mlops/v1',
    kind: 'ModelVersion',
    model,
    version,
    created_at: now,
    parent: parentVersion,
    ...(req.description ? { description: req.description } : {}),
    artifact: {
      path: req.artifact.name,
      format: 'onnx',
      sha256: req.artifact.sha256,
      bytes: req.artifact.bytes.byteLength,
      ...(req.sidecars?.length ? { files: req.sidecars.map((s) => ({ path: s.name, sha256: s.sha256, bytes: s.bytes.byteLength })) } : {}),
    },
    dataset: req.dataset,
    schema: req.schema,
    training: req.training,
    metrics: req.metrics,
    validation: req.validation ?? null,
    lifecycle: { state: 'active', reason: null, at: null },
    observed: {},
  };
  const dir = versionDir(model, version);
  const body = [
    req.message?.trim(),
    `Version rule: ${bump}${parent ? ` (parent ${parent.version})` : ''}.`,
    `Dataset ${req.dataset.name}: ${req.dataset.sha256}${req.dataset.rows !== null ? `, ${req.dataset.rows} rows` : ''}.`,
    `Artifact ${req.artifact.name}: ${req.artifact.sha256}.`,
  ].filter(Boolean).join('\n');
  return {
    model,
    action: 'register',
    version,
    previous: parentVersion,
    summary: `register ${model}@${version} (${bump})`,
    edits: [
      manifestEdit(manifest),
      { path: `${dir}/${req.artifact.name}`, content: req.artifact.bytes },
      ...(req.sidecars ?? []).map((s) => ({ path: `${dir}/${s.name}`, content: s.bytes })),
    ],
    message: formatCommitMessage({ model, action: 'register', version, previous: parentVersion, body }),
    tags: req.tag
      ? [{ name: registrationTag(model, version), message: `Registered ${model} ${version}\n\nartifact sha256 ${req.artifact.sha256}\ndataset sha256 ${req.dataset.sha256}\n` }]
      : [],
    manifest,
  };
}

// ---------------------------------------------------------------- canary

export function planCanaryStart(state: ModelState, req: { version: string; weight: number; reason?: string }, now: string): Plan {
  const model = state.model.name;
  const d = state.deployments;
  requireActive(state, req.version, 'start a canary of');
  if (d.canary) {
    throw new MlopsError('CANARY_ALREADY_RUNNING', `a canary of ${model}@${d.canary.version} is already running (weight ${d.canary.weight})`, {
      hint: `One canary at a time: promote it, or stop it with \`mlops canary abort ${model}\`.`,
    });
  }
  if (d.production === req.version) {
    throw new MlopsError('CANARY_IS_PRODUCTION', `${model}@${req.version} is already the production version`, { hint: 'Start a canary of a staging version.' });
  }
  if (!d.production) {
    throw new MlopsError('NO_PRODUCTION', `${model} has no production version to compare a canary with`, {
      hint: `Put the first version straight into production: \`mlops promote ${model}@${req.version} --force\`.`,
    });
  }
  checkWeight(req.weight);
  const next = withCanary(d, { version: req.version, weight: req.weight, started_at: now });
  return {
    model,
    action: 'canary-start',
    version: req.version,
    previous: d.production,
    summary: `start canary ${model}@${req.version} at ${req.weight * 100}% against ${d.production}`,
    edits: [deploymentsEdit(next)],
    message: formatCommitMessage({ model, action: 'canary-start', version: req.version, previous: d.production, body: `Weight ${req.weight}.${req.reason ? `\n\n${req.reason}` : ''}` }),
    tags: [],
  };
}

export function checkWeight(weight: number): void {
  if (!(Number.isFinite(weight) && weight > 0 && weight < 1)) {
    throw new MlopsError('CANARY_WEIGHT_INVALID', `canary weight ${weight} is not between 0 and 1 (exclusive)`, {
      hint: 'Weights are shares of traffic, e.g. 0.1 for 10%. Use `mlops promote` to send all traffic.',
    });
  }
}

function requireCanary(state: ModelState) {
  const c = state.deployments.canary;
  if (!c) {
    throw new MlopsError('CANARY_NOT_RUNNING', `no canary of ${state.model.name} is running`, {
      hint: `Start one with \`mlops canary start ${state.model.name}@<version>\`.`,
    });
  }
  return c;
}

export function planCanaryWeight(state: ModelState, req: { weight: number; decision?: DecisionRecord }): Plan {
  const model = state.model.name;
  const c = requireCanary(state);
  checkWeight(req.weight);
  if (req.weight === c.weight) {
    throw new MlopsError('NOTHING_TO_DO', `the canary of ${model}@${c.version} already has weight ${c.weight}`, { hint: 'Pass a different weight.' });
  }
  const next = withCanary(state.deployments, { ...c, weight: req.weight });
  const edits = [deploymentsEdit(next)];
  if (req.decision) edits.push(manifestEdit(withDecision(entryOf(state, c.version).manifest, req.decision)));
  return {
    model,
    action: 'canary-weight',
    version: c.version,
    previous: state.deployments.production,
    summary: `set canary ${model}@${c.version} weight ${c.weight} -> ${req.weight}`,
    edits,
    message: formatCommitMessage({ model, action: 'canary-weight', version: c.version, previous: state.deployments.production, body: `Weight ${c.weight} -> ${req.weight}.` }),
    tags: [],
  };
}

export function planCanaryAbort(state: ModelState, req: { reason?: string; decision?: DecisionRecord }): Plan {
  const model = state.model.name;
  const c = requireCanary(state);
  const edits = [deploymentsEdit(withCanary(state.deployments, null))];
  if (req.decision) edits.push(manifestEdit(withDecision(entryOf(state, c.version).manifest, req.decision)));
  return {
    model,
    action: 'canary-abort',
    version: c.version,
    previous: state.deployments.production,
    summary: `abort canary ${model}@${c.version}`,
    edits,
    message: formatCommitMessage({
      model,
      action: 'canary-abort',
      version: c.version,
      previous: state.deployments.production,
      body: req.reason,
      trailers: req.reason ? { 'Mlops-Reason': req.reason } : {},
    }),
    tags: [],
  };
}

// ---------------------------------------------------------------- promote

export function planPromote(state: ModelState, req: { version: string; force?: boolean; decision?: DecisionRecord; reason?: string }): Plan {
  const model = state.model.name;
  const d = state.deployments;
  const entry = requireActive(state, req.version, 'promote');
  if (d.production === req.version) {
    throw new MlopsError('ALREADY_IN_PRODUCTION', `${model}@${req.version} is already in production`, { hint: 'Nothing to promote.' });
  }
  const isCanary = d.canary?.version === req.version;
  if (!isCanary) {
    if (d.canary) {
      throw new MlopsError('CANARY_ALREADY_RUNNING', `cannot promote ${model}@${req.version} while a canary of ${d.canary.version} is running`, {
        hint: `Promote or abort the canary first (\`mlops canary abort ${model}\`).`,
      });
    }
    if (!req.force && d.production !== null) {
      throw new MlopsError('NOT_IN_CANARY', `${model}@${req.version} is ${deriveStatus(entry.manifest, d)}, not in canary`, {
        hint: `The order is staging -> canary -> production: \`mlops canary start ${model}@${req.version}\`, or pass --force to skip the canary.`,
      });
    }
  }
  const next = withCanary(withProduction(d, req.version), isCanary ? null : d.canary);
  const edits = [deploymentsEdit(next)];
  if (req.decision) edits.push(manifestEdit(withDecision(entry.manifest, req.decision)));
  const how = isCanary ? 'from canary' : d.production === null ? 'first production version' : 'forced, skipping the canary';
  return {
    model,
    action: 'promote',
    version: req.version,
    previous: d.production,
    summary: `promote ${model}@${req.version} to production (${how}); ${d.production ?? 'nothing'} steps back`,
    edits,
    message: formatCommitMessage({
      model,
      action: 'promote',
      version: req.version,
      previous: d.production,
      body: [`Promoted ${how}.`, req.reason].filter(Boolean).join('\n\n'),
    }),
    tags: [],
  };
}

// ---------------------------------------------------------------- rollback

export interface RollbackTarget {
  stage: 'production' | 'canary';
  /** The version being rolled back. */
  version: string;
  /** The commit that made the bad move. */
  commit: string;
  subject: string;
  /** Whether `git revert` of that commit undoes exactly the move (it only touched deployments.yaml and is not a merge). */
  revertable: boolean;
  /** For production: the production version before that commit. */
  restore: string | null;
}

/**
 * Step one of a rollback: revert the commit that made the bad move; `edits` are the equivalent
 * forward commit used when the revert does not apply cleanly (SPEC 3.8).
 */
export function planRollback(state: ModelState, target: RollbackTarget, req: { reason?: string }): Plan {
  const model = state.model.name;
  const d = state.deployments;
  let next: DeploymentsDoc;
  let previous: string | null;
  if (target.stage === 'production') {
    if (d.production !== target.version) throw new MlopsError('INTERNAL', `rollback target ${target.version} is not in production`);
    if (!target.restore) {
      throw new MlopsError('NO_ROLLBACK_TARGET', `${model}@${target.version} became production with no production version before it`, {
        hint: `There is nothing to return to. Promote another version with \`mlops promote ${model}@<version> --force\`.`,
      });
    }
    const restored = state.versions.get(target.restore);
    if (!restored || restored.manifest.lifecycle.state !== 'active') {
      throw new MlopsError('ROLLBACK_TARGET_INACTIVE', `the version before ${target.version}, ${target.restore}, is ${restored ? restored.manifest.lifecycle.state : 'no longer registered'}`, {
        hint: `Promote an active version instead: \`mlops promote ${model}@<version> --force\`.`,
      });
    }
    // The bad version must not keep serving as canary either.
    next = withCanary(withProduction(d, target.restore), d.canary?.version === target.version ? null : d.canary);
    previous = target.restore;
  } else {
    if (d.canary?.version !== target.version) throw new MlopsError('INTERNAL', `rollback target ${target.version} is not the canary`);
    next = withCanary(d, null);
    previous = d.production;
  }
  const trailers: Record<string, string> = { 'Mlops-Reverts': target.commit, ...(req.reason ? { 'Mlops-Reason': req.reason } : {}) };
  const info = { model, action: 'rollback' as const, version: target.version, previous, trailers };
  const revertMessage =
    `Revert "${target.subject}"\n\nThis reverts commit ${target.commit}.\n\n` +
    (req.reason ? `${req.reason}\n\n` : '') +
    formatCommitMessage(info).split('\n\n').pop();
  return {
    model,
    action: 'rollback',
    version: target.version,
    previous,
    summary: `roll back ${target.stage} ${model}@${target.version}${target.stage === 'production' ? ` to ${target.restore}` : ''} by reverting ${target.commit.slice(0, 12)}`,
    edits: [deploymentsEdit(next)],
    message: formatCommitMessage({
      ...info,
      body: `Forward commit equivalent to reverting ${target.commit} ("${target.subject}"), which does not revert cleanly.${req.reason ? `\n\n${req.reason}` : ''}`,
    }),
    tags: [],
    revert: target.revertable ? { commit: target.commit, message: revertMessage } : undefined,
  };
}

/**
 * Step two of a rollback, planned on the state after step one: deprecate the bad version
 * (clearing a canary pointer the revert may have put back), or with keepActive only record
 * the decision. Returns null when there is nothing to commit.
 */
export function planRollbackFollowUp(
  state: ModelState,
  req: { version: string; reason: string; keepActive?: boolean; decision?: DecisionRecord },
  now: string,
): Plan | null {
  const model = state.model.name;
  const entry = entryOf(state, req.version);
  if (req.keepActive) {
    if (!req.decision) return null;
    return planMetricsLike(state, withDecision(entry.manifest, req.decision), 'metrics', 'record the rollback decision');
  }
  const d = state.deployments;
  const edits = [];
  if (d.canary?.version === req.version) edits.push(deploymentsEdit(withCanary(d, null)));
  if (d.production === req.version) throw new MlopsError('INTERNAL', `${req.version} is still in production after the rollback`);
  const manifest = withDecision({ ...entry.manifest, lifecycle: { state: 'deprecated', reason: req.reason, at: now } }, req.decision);
  edits.push(manifestEdit(manifest));
  return {
    model,
    action: 'deprecate',
    version: req.version,
    previous: d.production,
    summary: `deprecate ${model}@${req.version}: ${req.reason}`,
    edits,
    message: formatCommitMessage({ model, action: 'deprecate', version: req.version, previous: d.production, body: req.reason, trailers: { 'Mlops-Reason': req.reason } }),
    tags: [],
  };
}

// ---------------------------------------------------------------- lifecycle and metrics

function planMetricsLike(state: ModelState, after: ManifestDoc, action: 'metrics', summary: string): Plan {
  const model = state.model.name;
  return {
    model,
    action,
    version: after.version,
    previous: state.deployments.production,
    summary: `${summary} for ${model}@${after.version}`,
    edits: [manifestEdit(after)],
    message: formatCommitMessage({ model, action, version: after.version, previous: state.deployments.production }),
    tags: [],
  };
}

export function planDeprecate(state: ModelState, req: { version: string; reason: string }, now: string): Plan {
  const model = state.model.name;
  const entry = entryOf(state, req.version);
  if (!req.reason?.trim()) throw new MlopsError('INVALID_ARGUMENT', 'a reason is required to deprecate a version', { hint: 'Pass --reason "why".' });
  const status = deriveStatus(entry.manifest, state.deployments);
  if (status === 'production' || status === 'canary') {
    throw new MlopsError('VERSION_POINTED', `${model}@${req.version} is in ${status}: a serving version cannot be deprecated`, {
      hint: status === 'canary' ? `Abort or roll back the canary first (\`mlops rollback ${model}\`).` : `Roll back or promote another version first (\`mlops rollback ${model}\`).`,
    });
  }
  if (entry.manifest.lifecycle.state !== 'active') {
    throw new MlopsError('LIFECYCLE_TRANSITION_INVALID', `${model}@${req.version} is already ${entry.manifest.lifecycle.state}`, { hint: 'Only active versions can be deprecated.' });
  }
  const manifest: ManifestDoc = { ...entry.manifest, lifecycle: { state: 'deprecated', reason: req.reason.trim(), at: now } };
  return {
    model,
    action: 'deprecate',
    version: req.version,
    previous: state.deployments.production,
    summary: `deprecate ${model}@${req.version}: ${req.reason.trim()}`,
    edits: [manifestEdit(manifest)],
    message: formatCommitMessage({ model, action: 'deprecate', version: req.version, previous: state.deployments.production, body: req.reason.trim(), trailers: { 'Mlops-Reason': req.reason.trim() } }),
    tags: [],
  };
}

export function planArchive(state: ModelState, req: { version: string; reason?: string; prune?: boolean }, now: string): Plan {
  const model = state.model.name;
  const entry = entryOf(state, req.version);
  if (entry.manifest.lifecycle.state !== 'deprecated') {
    throw new MlopsError('LIFECYCLE_TRANSITION_INVALID', `${model}@${req.version} is ${entry.manifest.lifecycle.state}: only a deprecated version can be archived`, {
      hint: `Deprecate it first: \`mlops deprecate ${model}@${req.version} --reason "..."\`.`,
    });
  }
  const reason = req.reason?.trim() || entry.manifest.lifecycle.reason || 'archived';
  const manifest: ManifestDoc = { ...entry.manifest, lifecycle: { state: 'archived', reason, at: now } };
  const dir = versionDir(model, req.version);
  const pruned = req.prune ? [entry.manifest.artifact.path, ...(entry.manifest.artifact.files ?? []).map((f) => f.path)] : [];
  return {
    model,
    action: 'archive',
    version: req.version,
    previous: state.deployments.production,
    summary: `archive ${model}@${req.version}${pruned.length ? ` and remove ${pruned.join(', ')} from the tree (hashes kept)` : ''}`,
    edits: [manifestEdit(manifest), ...pruned.map((p) => ({ path: `${dir}/${p}`, content: null }))],
    message: formatCommitMessage({ model, action: 'archive', version: req.version, previous: state.deployments.production, body: reason, trailers: { 'Mlops-Reason': reason } }),
    tags: [],
  };
}

/** The original design's update_model_metrics: a runtime metrics snapshot in `observed.metrics`. */
export function planMetrics(state: ModelState, req: { version: string; metrics: Record<string, unknown> }, now: string): Plan {
  const entry = entryOf(state, req.version);
  for (const [k, v] of Object.entries(req.metrics)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) || (typeof v !== 'number' && v !== null) || (typeof v === 'number' && !Number.isFinite(v))) {
      throw new MlopsError('INVALID_ARGUMENT', `metric "${k}" must be a finite number (got ${JSON.stringify(v)})`, { hint: 'Metrics are a flat JSON object of numbers, e.g. {"success_rate": 0.85}.' });
    }
  }
  const manifest: ManifestDoc = { ...entry.manifest, observed: { ...entry.manifest.observed, metrics: { at: now, ...req.metrics } } };
  return planMetricsLike(state, manifest, 'metrics', 'record runtime metrics');
}
