// Deterministic, sticky canary routing (SPEC 6.4): the same key goes to the same version in every
// replica and every language, and raising the weight only ever moves keys towards the canary.
import * as crypto from 'node:crypto';
import { MlopsError } from '../errors.js';

export type Route = 'canary' | 'production';

/** Number of buckets; a weight is resolved to round(weight * BUCKETS) of them. */
export const BUCKETS = 10_000;

// crypto.hash (one-shot, Node >= 20.12) is about four times faster than createHash per key because
// it skips the Hash object; hex output is faster again than a Buffer (no allocation of a JS
// object). createHash stays as the fallback for older Node 20 releases the package allows.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;
const sha256Hex: (s: string) => string =
  typeof oneShot === 'function'
    ? (s) => oneShot('sha256', s, 'hex')
    : (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

export interface BucketInput {
  model: string;
  canaryVersion: string;
  key: string;
}

/**
 * The key's bucket in [0, 10000): the first 4 bytes of SHA-256(utf8("<model>:<canary version>:<key>"))
 * as an unsigned big-endian integer, mod 10000. Lone UTF-16 surrogates encode as U+FFFD, as
 * Node's UTF-8 encoder does (the Python client replicates this).
 */
export function bucketOf({ model, canaryVersion, key }: BucketInput): number {
  // 8 hex digits = the first 4 bytes, big-endian; parseInt of 8 hex digits is exact (< 2^32).
  return parseInt(sha256Hex(`${model}:${canaryVersion}:${key}`).slice(0, 8), 16) % BUCKETS;
}

/**
 * How many of the 10,000 buckets go to the canary: round(weight * 10000), with halves rounded up
 * (JavaScript's Math.round; weights are non-negative so this is also "half away from zero").
 * The product is an IEEE double, so 0.00005 * 10000 is whatever the double arithmetic gives;
 * every client multiplies the same doubles and gets the same threshold.
 */
export function canaryBuckets(weight: number): number {
  checkWeight(weight);
  return Math.round(weight * BUCKETS);
}

export interface RouteKeyInput extends BucketInput {
  /** Share of traffic for the canary, 0 <= weight <= 1 (deployments.yaml keeps it strictly inside). */
  weight: number;
}

export function routeKey(input: RouteKeyInput): Route {
  return bucketOf(input) < canaryBuckets(input.weight) ? 'canary' : 'production';
}

/** The parts of deployments.yaml routing reads (registry/<model>/deployments.yaml, SPEC 3.3). */
export interface RoutingDeployments {
  model: string;
  production: string | null;
  canary: { version: string; weight: number; started_at?: string } | null;
}

export interface RouteDecision {
  /** The version that serves this key. */
  version: string;
  route: Route;
  /** The key's bucket for the running canary, or null when no canary runs. */
  bucket: number | null;
}

/**
 * Which version serves `key`. Without a canary, production serves every key. With a canary and no
 * production (only reachable by hand-editing deployments.yaml: a first version goes straight to
 * production), the canary is the only loaded version and serves every key, reported as route
 * 'canary' so its outcomes are still attributed to it; refusing 90% of traffic would help nobody.
 */
export function route(deployments: RoutingDeployments, key: string): RouteDecision {
  const { model, production, canary } = deployments;
  if (typeof key !== 'string') {
    throw new MlopsError('ROUTING_KEY_MISSING', `routing key for model ${model} must be a string, got ${typeof key}`, {
      hint: 'Pass the request key (default: the domain), or the task_id.',
    });
  }
  if (!canary) {
    if (production === null) {
      throw new MlopsError('NO_PRODUCTION', `no version of model ${model} serves: production and canary are both null`, {
        hint: `Point production at a version: mlops promote ${model}@vX.Y.Z --force`,
      });
    }
    return { version: production, route: 'production', bucket: null };
  }
  const bucket = bucketOf({ model, canaryVersion: canary.version, key });
  if (production === null || bucket < canaryBuckets(canary.weight)) {
    return { version: canary.version, route: 'canary', bucket };
  }
  return { version: production, route: 'production', bucket };
}

/** The fields of a request or outcome record that can carry the routing key. */
export interface RoutingKeySource {
  key?: unknown;
  domain?: unknown;
  task_id?: unknown;
}

/**
 * The routing key of a request (SPEC 6.4): its `key`, else its domain (the default key, so one
 * site always meets one version), else its task_id. Empty strings count as absent.
 */
export function routingKeyOf(record: RoutingKeySource): string {
  for (const field of ['key', 'domain', 'task_id'] as const) {
    const v = record[field];
    if (typeof v === 'string' && v !== '') return v;
  }
  throw new MlopsError('ROUTING_KEY_MISSING', 'the request has no routing key: no key, domain or task_id', {
    hint: 'Send `key`, or the outcome fields `domain` / `task_id`.',
  });
}

function checkWeight(weight: number): void {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw new MlopsError('CANARY_WEIGHT_INVALID', `canary weight must be a number between 0 and 1, got ${String(weight)}`, {
      hint: 'Use a share of traffic such as 0.1 for 10%.',
    });
  }
}
