// The versioning rule (SPEC 3.6): the next version after the greatest existing one (manifests
// and tags alike, so a reverted registration's number is never reused). MAJOR when the feature
// schema changed against the parent, MINOR when the dataset or training params changed, PATCH otherwise.
import { MlopsError } from '../errors.js';
import { bumpVersion, compareVersions, maxVersion, parseVersion, type Bump } from './semver.js';
import type { ManifestDoc } from './types.js';

export interface VersionRequest {
  /** Every version number ever used: manifests in the tree and registration tags. */
  existing: Iterable<string>;
  parent: ManifestDoc | null;
  schemaVersion: string;
  datasetSha256: string;
  params: Record<string, unknown>;
  bump?: Bump;
  explicit?: string;
}

/** Key order must not matter when comparing params. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function inferBump(parent: ManifestDoc | null, req: Pick<VersionRequest, 'schemaVersion' | 'datasetSha256' | 'params'>): Bump {
  if (!parent) return 'minor';
  if (parent.schema.version !== req.schemaVersion) return 'major';
  if (parent.dataset.sha256 !== req.datasetSha256) return 'minor';
  if (canonicalJson(parent.training.params) !== canonicalJson(req.params)) return 'minor';
  return 'patch';
}

export function nextVersion(req: VersionRequest): { version: string; bump: Bump | 'explicit' | 'first' } {
  const existing = [...req.existing];
  const greatest = maxVersion(existing);
  if (req.explicit !== undefined) {
    parseVersion(req.explicit);
    if (existing.includes(req.explicit)) {
      throw new MlopsError('VERSION_EXISTS', `version ${req.explicit} already exists (as a manifest or a registration tag)`, {
        hint: 'Version numbers are never reused; pick a greater one or let mlops choose.',
      });
    }
    if (greatest && compareVersions(req.explicit, greatest) <= 0) {
      throw new MlopsError('VERSION_NOT_GREATER', `version ${req.explicit} is not greater than the greatest existing version ${greatest}`, {
        hint: `An explicit --version must be greater than ${greatest}.`,
      });
    }
    return { version: req.explicit, bump: 'explicit' };
  }
  if (!greatest) return { version: 'v1.0.0', bump: 'first' };
  const bump = req.bump ?? inferBump(req.parent, req);
  return { version: bumpVersion(greatest, bump), bump };
}
