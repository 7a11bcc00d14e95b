// Model versions: SemVer with a `v` prefix and no pre-release or build parts (SPEC 2).
import { MlopsError } from '../errors.js';

const VERSION_RE = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const MODEL_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export type Bump = 'major' | 'minor' | 'patch';

export function isVersion(s: string): boolean {
  return VERSION_RE.test(s);
}

export function parseVersion(s: string): [number, number, number] {
  const m = VERSION_RE.exec(s);
  if (!m) {
    throw new MlopsError('VERSION_INVALID', `"${s}" is not a model version`, {
      hint: 'Versions look like v1.2.3 (a "v", then MAJOR.MINOR.PATCH without leading zeros, pre-release or build parts).',
    });
  }
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** Sorts versions newest first, parsing each once (a comparison sort would parse them n log n times). */
export function sortVersionsDesc<T>(items: T[], versionOf: (item: T) => string): T[] {
  const keyed = items.map((item) => ({ item, k: parseVersion(versionOf(item)) }));
  keyed.sort((a, b) => b.k[0] - a.k[0] || b.k[1] - a.k[1] || b.k[2] - a.k[2]);
  return keyed.map((x) => x.item);
}

export function maxVersion(versions: Iterable<string>): string | null {
  let best: string | null = null;
  for (const v of versions) if (best === null || compareVersions(v, best) > 0) best = v;
  return best;
}

export function bumpVersion(v: string, bump: Bump): string {
  const [ma, mi, pa] = parseVersion(v);
  if (bump === 'major') return `v${ma + 1}.0.0`;
  if (bump === 'minor') return `v${ma}.${mi + 1}.0`;
  return `v${ma}.${mi}.${pa + 1}`;
}

export function isModelName(s: string): boolean {
  return MODEL_RE.test(s) && s.length <= 100;
}

export function assertModelName(s: string): void {
  if (!isModelName(s)) {
    throw new MlopsError('MODEL_NAME_INVALID', `"${s}" is not a valid model name`, {
      hint: 'Model names are lower-case letters, digits and inner hyphens, e.g. backlink-success.',
    });
  }
}

/** GTO's tag grammar: `<model>@<version>`. */
export function registrationTag(model: string, version: string): string {
  return `${model}@${version}`;
}

export function parseRegistrationTag(tag: string): { model: string; version: string } | null {
  const at = tag.lastIndexOf('@');
  if (at <= 0) return null;
  const model = tag.slice(0, at);
  const version = tag.slice(at + 1);
  return isModelName(model) && isVersion(version) ? { model, version } : null;
}

/** Parses `M@vX.Y.Z` as typed on the command line. */
export function parseModelRef(ref: string): { model: string; version: string } {
  const parsed = parseRegistrationTag(ref);
  if (!parsed) {
    const at = ref.lastIndexOf('@');
    if (at > 0) {
      assertModelName(ref.slice(0, at));
      parseVersion(ref.slice(at + 1));
    }
    throw new MlopsError('INVALID_ARGUMENT', `"${ref}" is not MODEL@VERSION`, { hint: 'Write it as, for example, backlink-success@v1.3.0.' });
  }
  return parsed;
}
