// Where things live in a registry repository (SPEC 2). Paths use forward slashes, relative to the root.
export const REGISTRY_DIR = 'registry';
export const SCHEMAS_DIR = 'registry/schemas';
export const LOCK_FILE = 'datasets.lock';

export const modelDir = (model: string) => `${REGISTRY_DIR}/${model}`;
export const modelFile = (model: string) => `${REGISTRY_DIR}/${model}/model.yaml`;
export const deploymentsFile = (model: string) => `${REGISTRY_DIR}/${model}/deployments.yaml`;
export const versionsDir = (model: string) => `${REGISTRY_DIR}/${model}/versions`;
export const versionDir = (model: string, version: string) => `${REGISTRY_DIR}/${model}/versions/${version}`;
export const manifestFile = (model: string, version: string) => `${versionDir(model, version)}/manifest.yaml`;
export const schemaFile = (schemaVersion: string) => `${SCHEMAS_DIR}/${schemaVersion}.yaml`;

/** Registry paths whose uncommitted changes would make a state change ambiguous. */
export const GUARDED_PATHS = [REGISTRY_DIR, LOCK_FILE, 'datasets'];
