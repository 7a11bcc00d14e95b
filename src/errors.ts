// The one error type of the project: a stable code, a message that says what and where,
// and a hint that says what to do. The CLI maps codes to exit statuses (2 for usage/config).

/** Codes whose errors are the caller's usage or configuration (exit status 2). */
const USAGE_CODES = new Set<string>([
  'USAGE',
  'INVALID_ARGUMENT',
  'CONFIG_INVALID',
  'CONFIG_NOT_FOUND',
  'CONFIG_PARSE_ERROR',
  'DASHBOARD_OUT_INVALID',
]);

export type ErrorCode =
  // usage and configuration
  | 'USAGE'
  | 'INVALID_ARGUMENT'
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_PARSE_ERROR'
  // files and formats
  | 'YAML_PARSE_ERROR'
  | 'YAML_ALIAS_LIMIT'
  | 'SCHEMA_INVALID'
  | 'FILE_NOT_FOUND'
  | 'FILE_TOO_LARGE'
  | 'ENCODING_INVALID'
  // registry
  | 'NOT_A_REGISTRY'
  | 'ALREADY_INITIALIZED'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_NAME_INVALID'
  | 'VERSION_INVALID'
  | 'VERSION_NOT_FOUND'
  | 'VERSION_EXISTS'
  | 'VERSION_NOT_GREATER'
  | 'VERSION_FOLDER_MISMATCH'
  | 'VERSION_DUPLICATE'
  | 'VERSION_NOT_ACTIVE'
  | 'VERSION_POINTED'
  | 'MANIFEST_INVALID'
  | 'DEPLOYMENTS_INVALID'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_PATH_ESCAPES'
  | 'ARTIFACT_HASH_MISMATCH'
  | 'ARTIFACT_SIZE_MISMATCH'
  | 'SCHEMA_NOT_FOUND'
  | 'SCHEMA_HASH_MISMATCH'
  | 'DATASET_NOT_FOUND'
  | 'POINTER_TO_MISSING_VERSION'
  | 'POINTER_TO_INACTIVE_VERSION'
  | 'CANARY_IS_PRODUCTION'
  | 'CANARY_ALREADY_RUNNING'
  | 'CANARY_NOT_RUNNING'
  | 'CANARY_WEIGHT_INVALID'
  | 'NOT_IN_CANARY'
  | 'ALREADY_IN_PRODUCTION'
  | 'NO_PRODUCTION'
  | 'NO_ROLLBACK_TARGET'
  | 'ROLLBACK_TARGET_INACTIVE'
  | 'LIFECYCLE_TRANSITION_INVALID'
  | 'TAG_MISSING'
  | 'TAG_MISPLACED'
  | 'NOTHING_TO_DO'
  // git
  | 'NOT_A_GIT_REPO'
  | 'GIT_FAILED'
  | 'GIT_IDENTITY_MISSING'
  | 'DETACHED_HEAD'
  | 'DIRTY_REGISTRY'
  | 'CONCURRENT_UPDATE'
  | 'REVERT_FAILED'
  | 'PUSH_REJECTED'
  | 'BRANCH_DIVERGED'
  // data
  | 'OUTCOME_INVALID'
  | 'OUTCOME_LINE_TOO_LONG'
  | 'OUTCOME_LINE_TRUNCATED'
  | 'SHARD_MISSING'
  | 'SHARD_MODIFIED'
  | 'SHARD_EXISTS'
  | 'LOCK_INVALID'
  | 'DATASET_MERGED_MISMATCH'
  | 'FEATURE_SCHEMA_INVALID'
  | 'FEATURE_STATE_INVALID'
  | 'FEATURE_MISSING'
  | 'SOURCE_UNREACHABLE'
  // training and evaluation
  | 'TRAINING_DATA_EMPTY'
  | 'TRAINING_DATA_SINGLE_CLASS'
  | 'TRAINING_DATA_NOT_FINITE'
  | 'TRAINER_UNKNOWN'
  | 'TRAINER_FAILED'
  | 'TRAINER_TIMEOUT'
  | 'ONNX_INVALID'
  | 'ONNX_CONTRACT_MISMATCH'
  | 'VALIDATION_FAILED'
  // forge, serving, canary, alerts
  | 'FORGE_AUTH'
  | 'FORGE_NOT_FOUND'
  | 'FORGE_UNPROCESSABLE'
  | 'FORGE_UNAVAILABLE'
  | 'FORGE_RATE_LIMITED'
  | 'FORGE_TOKEN_MISSING'
  | 'MERGE_CONFLICT'
  | 'METRICS_SOURCE_FAILED'
  | 'ROUTING_KEY_MISSING'
  | 'ALERT_FAILED'
  | 'ALERT_STATE_INVALID'
  | 'WEBHOOK_FAILED'
  | 'WEBHOOK_TIMEOUT'
  | 'SERVE_FAILED'
  | 'MODEL_LOAD_FAILED'
  | 'MODEL_NOT_READY'
  | 'UNAUTHORIZED'
  | 'BODY_TOO_LARGE'
  | 'JSON_INVALID'
  | 'REQUEST_INVALID'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'SOURCE_RESPONSE_INVALID'
  // dashboard
  | 'DASHBOARD_OUT_INVALID'
  | 'INTERNAL';

export interface MlopsErrorOptions {
  hint?: string;
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class MlopsError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly data?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: MlopsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MlopsError';
    this.code = code;
    this.hint = options.hint;
    this.data = options.data;
  }

  /** Exit status the CLI uses for this error: 2 for usage/configuration, 1 otherwise. */
  get exitCode(): 1 | 2 {
    return USAGE_CODES.has(this.code) ? 2 : 1;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; data?: Record<string, unknown> } {
    return { code: this.code, message: this.message, hint: this.hint, data: this.data };
  }
}

/**
 * Marks MlopsErrors of every copy of this module, not only of one class: the bundled CLI
 * (scripts/bundle-cli.mjs) carries its own copy, and the modules it loads from dist/ theirs.
 */
const BRAND = Symbol.for('mlops-gitops.MlopsError');
Object.defineProperty(MlopsError.prototype, BRAND, { value: true });

export function isMlopsError(e: unknown): e is MlopsError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** One finding of a check (verify, validation): a stable code, where, and what. */
export interface Problem {
  code: ErrorCode;
  path: string;
  message: string;
  line?: number;
  hint?: string;
}
