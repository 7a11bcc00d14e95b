// The library face of the registry, named after the original Python design
// (register_model, get_model, update_model_metrics, should_rollback, rollback_to_previous).
// Every method is one use case of src/app; nothing here re-reads the formats.
import { MlopsError } from '../errors.js';
import { isVersion } from '../registry/semver.js';
import type { ManifestDoc, Status } from '../registry/types.js';
import { openContext, resolveModelName, type Context } from './context.js';
import { getStage, listVersions, showVersion, type VersionRow } from './read.js';
import { registerVersion, type RegisterOptions, type RegisterResult } from './register.js';
import { rollback, type RollbackResult } from './rollback.js';
import { updateMetrics, type OpResult } from './stage-ops.js';
import { readHistory } from './history.js';
import { verifyRegistry, type VerifyResult } from './verify.js';
import type { PointerMove } from '../registry/history.js';

export interface ModelInfo {
  model: string;
  version: string;
  status: Status;
  /** Absolute path of the ONNX artifact (the original design's model_path). */
  modelPath: string;
  manifest: ManifestDoc;
}

export class ModelRegistry {
  private constructor(
    readonly ctx: Context,
    /** The model this handle works on (the configured one unless given). */
    readonly model: string,
  ) {}

  /** Opens the registry in `dir` (default: the current directory). */
  static async open(opts: { dir?: string; model?: string; configFile?: string; now?: () => Date } = {}): Promise<ModelRegistry> {
    const ctx = await openContext({ dir: opts.dir, configFile: opts.configFile, now: opts.now });
    return new ModelRegistry(ctx, opts.model ?? resolveModelName(ctx));
  }

  /** Registers a new version (one commit, tagged on the default branch). */
  registerModel(opts: Omit<RegisterOptions, 'model'> & { model?: string }): Promise<RegisterResult> {
    return registerVersion(this.ctx, { ...opts, model: opts.model ?? this.model });
  }

  /** `getModel('production')`, `getModel('canary')` or `getModel('v1.2.3')`. */
  async getModel(which: 'production' | 'canary' | string): Promise<ModelInfo> {
    let version: string;
    if (which === 'production' || which === 'canary') {
      version = (await getStage(this.ctx, { model: this.model, stage: which })).version;
    } else if (isVersion(which)) {
      version = which;
    } else {
      throw new MlopsError('INVALID_ARGUMENT', `getModel("${which}"): expected "production", "canary" or a version like v1.2.3`, { hint: 'Pass a stage or a version.' });
    }
    const shown = await showVersion(this.ctx, { model: this.model, version });
    return { model: this.model, version, status: shown.status, modelPath: `${this.ctx.root}/${shown.folder}/${shown.manifest.artifact.path}`, manifest: shown.manifest };
  }

  listVersions(): Promise<VersionRow[]> {
    return listVersions(this.ctx, { model: this.model });
  }

  /** Records a runtime metrics snapshot in the version's `observed.metrics` (one commit). */
  updateModelMetrics(version: string, metrics: Record<string, number>): Promise<OpResult> {
    return updateMetrics(this.ctx, { model: this.model, version, metrics });
  }

  /**
   * Whether the canary judge says `version` should be rolled back now (SPEC 6.5): true only
   * for a rollback verdict of the sequential test on the configured metric source.
   */
  async shouldRollback(version: string, opts: { at?: Date } = {}): Promise<boolean> {
    const { analyzeCanary } = await import('./canary-check.js');
    const analysis = await analyzeCanary(this.ctx, { model: this.model, at: opts.at });
    return analysis.version === version && analysis.verdict.verdict === 'rollback';
  }

  /** Rolls `version` back from the stage it serves in, by `git revert` (SPEC 3.8). */
  rollbackToPrevious(version: string, opts: { reason?: string; keepActive?: boolean } = {}): Promise<RollbackResult> {
    return rollback(this.ctx, { model: this.model, version, reason: opts.reason, keepActive: opts.keepActive });
  }

  history(): Promise<PointerMove[]> {
    return readHistory(this.ctx, this.model);
  }

  verify(): Promise<VerifyResult> {
    return verifyRegistry(this.ctx);
  }
}
