// Trainer parameters: defaults, unknown-key and range checks. The resolved object (every key,
// fixed order) is what goes into the manifest and the ONNX metadata, so it must be stable.
import { MlopsError } from '../errors.js';

export interface ParamSpec {
  default: number | null;
  min?: number;
  max?: number;
  /** Lower bound excluded. */
  minExclusive?: boolean;
  integer?: boolean;
  nullable?: boolean;
}

export function resolveParams<T>(
  trainer: string,
  specs: Record<string, ParamSpec>,
  given: Record<string, unknown> | undefined,
): T {
  const out: Record<string, number | null> = {};
  const known = Object.keys(specs);
  for (const key of Object.keys(given ?? {})) {
    if (!known.includes(key)) {
      throw new MlopsError('INVALID_ARGUMENT', `Unknown ${trainer} parameter "${key}"`, {
        hint: `Known ${trainer} parameters: ${known.join(', ')}`,
        data: { trainer, key },
      });
    }
  }
  for (const key of known) {
    const spec = specs[key];
    const v = given?.[key];
    if (v === undefined || (v === null && !spec.nullable)) {
      out[key] = spec.default;
      continue;
    }
    if (v === null) {
      out[key] = null;
      continue;
    }
    const bad = (why: string): never => {
      throw new MlopsError('INVALID_ARGUMENT', `${trainer} parameter ${key} = ${JSON.stringify(v)} ${why}`, {
        hint: `Default: ${key} = ${JSON.stringify(spec.default)}`,
        data: { trainer, key },
      });
    };
    if (typeof v !== 'number' || !Number.isFinite(v)) bad('is not a finite number');
    const num = v as number;
    if (spec.integer && !Number.isInteger(num)) bad('is not an integer');
    if (spec.min !== undefined && (spec.minExclusive ? num <= spec.min : num < spec.min)) {
      bad(`must be ${spec.minExclusive ? '>' : '>='} ${spec.min}`);
    }
    if (spec.max !== undefined && num > spec.max) bad(`must be <= ${spec.max}`);
    out[key] = num;
  }
  return out as T;
}
