// The library: `import { ModelRegistry, getFeedbackCollector, route, decideCanary } from 'mlops-gitops'`.
// Names follow the original design (register_model, get_model, update_model_metrics,
// should_rollback, rollback_to_previous, get_feedback_collector), camel-cased.

// errors
export { MlopsError, isMlopsError, type ErrorCode, type Problem } from './errors.js';

// registry
export { ModelRegistry, type ModelInfo } from './app/model-registry.js';
export { openContext, type Context } from './app/context.js';
export { registerVersion, type RegisterOptions, type RegisterResult } from './app/register.js';
export { listVersions, showVersion, getStage, type VersionRow, type ShowResult, type GetResult } from './app/read.js';
export { canaryStart, canaryWeight, canaryAbort, promote, deprecate, archive, updateMetrics } from './app/stage-ops.js';
export { rollback, type RollbackOptions, type RollbackResult } from './app/rollback.js';
export { readHistory } from './app/history.js';
export { verifyRegistry, type VerifyResult } from './app/verify.js';
export { syncTags } from './app/tags-sync.js';
export { initRegistry } from './app/init.js';
export type { ManifestDoc, DeploymentsDoc, ModelDoc, Status, MlopsAction } from './registry/types.js';
export type { PointerMove } from './registry/history.js';
export { nextVersion, inferBump } from './registry/version-rule.js';
export { deriveStatus } from './registry/status.js';
export { parseVersion, compareVersions, registrationTag } from './registry/semver.js';
export { loadConfig, defaultConfig, type MlopsConfig } from './config/config.js';

// outcomes, datasets, features
export { getFeedbackCollector, type FeedbackCollector } from './data/collector.js';
export { normalizeOutcome, type OutcomeRecord, type OutcomeInput } from './data/outcome.js';
export { collectOutcomes } from './app/data-collect.js';
export { dataStatus } from './app/data-status.js';
export { verifyData } from './app/data-verify.js';
export { splitOf } from './data/split.js';
export { parseFeatureSchema, fitFeaturizer, featurize, featurizeMany, featureNames, labelsOf, starterFeatureSchema, serializeFittedState, parseFittedState } from './data/features.js';
export { synthOutcomes, synthOutcomeStream } from './data/synth.js';
export { readOutcomeStore, readOutcomesPage } from './data/outcome-store.js';
export { loadDatasetRecords } from './data/dataset.js';
export { parseLock, serializeLock } from './data/lock.js';
export { planCollect } from './data/collect.js';

// training
export * from './train/index.js';
export { trainFromDataset } from './app/train.js';
export { evaluateVersion } from './app/evaluate.js';
export { retrain, type RetrainResult } from './app/retrain.js';

// canary
export { route, routeKey, bucketOf, routingKeyOf } from './canary/route.js';
export { decideCanary, type CanaryVerdict } from './canary/decide.js';
export { simulateCanary } from './canary/simulate.js';
export { analyzeCanary, checkCanary, type CanaryAnalysis, type CheckResult } from './app/canary-check.js';
export { metricSourceFromConfig } from './metrics/from-config.js';

// serving
export { startServer, type StartServerOptions, type RunningServer } from './serve/server.js';
export { serve, type ServeOptions, type Serving } from './app/serve.js';
export { collectRemote, collectFromRemotes, type SourcePull } from './app/collect-remote.js';

// forge and alerts
export * from './forge/index.js';
export * from './alerts/index.js';
