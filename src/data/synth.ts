// A seeded synthetic outcome generator for demos, tests and benchmarks. Realistic enough to train
// on: hundreds of domains with their own base rates (Zipf-distributed traffic, so some domains
// are seen often and most rarely), eight action types, page and domain features, and outcome
// rules with non-linear interactions that trees can learn and a linear model cannot (a domain
// authority sweet spot for guest posts, forum moderation at night, comment-closed old pages,
// directories that want https, weekend editors), plus noise, errors, timeouts and latencies.
// A drift knob changes several of those rules after a date. Same options, same records. Pure.
import { seededRandom } from '../util/random.js';
import type { OutcomeRecord, OutcomeResult } from './outcome.js';

export const ACTIONS = [
  'blog_comment',
  'guest_post',
  'forum_post',
  'directory_submission',
  'social_bookmark',
  'wiki_edit',
  'profile_link',
  'resource_page',
] as const;

export interface SynthOptions {
  seed: number;
  rows: number;
  /** First and last timestamp (ISO 8601); timestamps follow a day/night cycle in between. */
  start: string;
  end: string;
  /** Number of distinct domains (default 400). */
  domains?: number;
  /**
   * Seed of the world (the domains and their rates), when it should differ from `seed`: weeks
   * sampled with different seeds from one world keep the same domains, like a real fleet's
   * outcomes week after week. Default: `seed`.
   */
  worldSeed?: number;
  /**
   * After `at`, the world changes by `strength` (0..1, default 1): the guest-post sweet spot moves
   * up, forums stop moderating at night but start rejecting long threads, a third of the domains
   * change their base rate, and errors double.
   */
  drift?: { at: string; strength?: number };
  /** Fraction of attempts that break with an error before the rules apply (default 0.03). */
  errorRate?: number;
  /** model and model_version written into each record (default backlink-success / v1.0.0). */
  model?: string | null;
  modelVersion?: string | null;
  /** Prefix of task_ids (default `syn-<seed>`); ids are `<prefix>-<index>`. */
  idPrefix?: string;
}

function normal(rand: () => number): number {
  // Box-Muller; 1 - u keeps log away from 0.
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function pick<T>(rand: () => number, items: readonly T[], weights: readonly number[]): T {
  let total = 0;
  for (const w of weights) total += w;
  let r = rand() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

const SYLLABLES = ['seo', 'link', 'web', 'net', 'blog', 'hub', 'go', 'pro', 'max', 'geo', 'tech', 'home', 'art', 'data', 'eco', 'food', 'trip', 'fit', 'code', 'news', 'shop', 'dev', 'lab', 'zen'];
const TLDS = ['com', 'org', 'net', 'io', 'co.uk', 'de', 'info', 'edu', 'gov', 'xyz', 'ru', 'fr'];
const TLD_WEIGHTS = [46, 12, 10, 5, 5, 4, 4, 3, 1, 4, 3, 3];
const TLD_EFFECT: Record<string, number> = { edu: 0.5, gov: 0.6, org: 0.2, xyz: -0.9, ru: -0.5, info: -0.3 };
const SUBDOMAINS = ['', '', '', '', 'www.', 'blog.', 'forum.', 'community.', 'shop.', 'en.blog.'];
const ACTION_BASE: Record<(typeof ACTIONS)[number], number> = {
  blog_comment: 0.6,
  guest_post: -0.2,
  forum_post: 0.4,
  directory_submission: 0.9,
  social_bookmark: 1.1,
  wiki_edit: -0.9,
  profile_link: 0.5,
  resource_page: -0.5,
};
const ACTION_WEIGHTS = [24, 14, 16, 12, 10, 6, 10, 8];
const REASONS: Record<'failure' | 'error', string[]> = {
  failure: ['comment_rejected', 'moderation_pending_expired', 'link_removed', 'no_reply', 'nofollow_only', 'captcha_failed'],
  error: ['timeout', 'http_500', 'connection_reset', 'selector_not_found', 'browser_crash'],
};

interface Domain {
  name: string;
  tld: string;
  https: boolean;
  base: number;
  driftBase: number;
  authority: number;
  dofollow: number;
  flaky: boolean;
  forum: boolean;
}

function makeDomains(rand: () => number, count: number): Domain[] {
  const seen = new Set<string>();
  const out: Domain[] = [];
  while (out.length < count) {
    const tld = pick(rand, TLDS, TLD_WEIGHTS);
    const sld = SYLLABLES[Math.floor(rand() * SYLLABLES.length)]! + (rand() < 0.7 ? SYLLABLES[Math.floor(rand() * SYLLABLES.length)]! : '') + (rand() < 0.3 ? String(Math.floor(rand() * 100)) : '');
    const sub = SUBDOMAINS[Math.floor(rand() * SUBDOMAINS.length)]!;
    const name = `${sub}${sld}.${tld}`;
    if (seen.has(name)) continue;
    seen.add(name);
    const authority = Math.max(1, Math.min(99, Math.round(35 + 22 * normal(rand) + (TLD_EFFECT[tld] ?? 0) * 15)));
    const base = 1.5 * normal(rand) + (TLD_EFFECT[tld] ?? 0);
    out.push({
      name,
      tld,
      https: rand() < 0.8,
      base,
      driftBase: rand() < 0.33 ? 1.3 * normal(rand) : base,
      authority,
      dofollow: 0.2 + 0.7 * rand(),
      flaky: rand() < 0.06,
      forum: sub.startsWith('forum') || sub.startsWith('community'),
    });
  }
  return out;
}

/** `count` records; returns normalized OutcomeRecords (timestamps in the canonical UTC form). */
export { seededRandom };

export function synthOutcomes(opts: SynthOptions): OutcomeRecord[] {
  const out: OutcomeRecord[] = [];
  for (const r of synthOutcomeStream(opts)) out.push(r);
  return out;
}

/** The same records as synthOutcomes, generated lazily (for millions of rows). */
export function* synthOutcomeStream(opts: SynthOptions): Generator<OutcomeRecord> {
  const rand = seededRandom(opts.seed);
  const domains = makeDomains(opts.worldSeed === undefined ? rand : seededRandom(opts.worldSeed), opts.domains ?? 400);
  // Zipf traffic: domain k gets weight 1/(k+1)^0.9.
  const cumulative: number[] = [];
  let acc = 0;
  for (let k = 0; k < domains.length; k++) cumulative.push((acc += 1 / Math.pow(k + 1, 0.9)));
  const start = Date.parse(opts.start);
  const end = Date.parse(opts.end);
  const driftAt = opts.drift ? Date.parse(opts.drift.at) : Number.POSITIVE_INFINITY;
  const strength = opts.drift?.strength ?? 1;
  const errorRate = opts.errorRate ?? 0.03;
  const prefix = opts.idPrefix ?? `syn-${opts.seed}`;
  const model = opts.model === undefined ? 'backlink-success' : opts.model;
  const modelVersion = opts.modelVersion === undefined ? 'v1.0.0' : opts.modelVersion;

  for (let i = 0; i < opts.rows; i++) {
    // Time: uniform over the range, thinned at night so traffic follows a working day.
    let ts: number;
    for (;;) {
      ts = start + Math.floor(rand() * Math.max(1, end - start));
      const hour = new Date(ts).getUTCHours();
      if (rand() < (hour >= 7 && hour <= 20 ? 1 : 0.35)) break;
    }
    const date = new Date(ts);
    const hour = date.getUTCHours();
    const weekday = (date.getUTCDay() + 6) % 7; // 0 = Monday
    const drifted = ts >= driftAt ? strength : 0;

    const u = rand() * acc;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    const d = domains[lo]!;
    const action = d.forum && rand() < 0.5 ? 'forum_post' : pick(rand, ACTIONS, ACTION_WEIGHTS);
    const depth = Math.floor(rand() * 4) + (action === 'resource_page' ? 1 : 0);
    const path = Array.from({ length: depth }, () => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]).join('/');
    const https = d.https;
    const url = `${https ? 'https' : 'http'}://${d.name}/${path}`;
    const authority = Math.max(0, Math.min(100, d.authority + Math.round(3 * normal(rand))));
    const outbound = Math.floor(Math.exp(2.5 + 1.2 * normal(rand)));
    const pageAge = Math.floor(Math.exp(5 + 1.3 * normal(rand)));
    const dofollow = rand() < d.dofollow;

    let z = (drifted ? d.base + (d.driftBase - d.base) * drifted : d.base) + ACTION_BASE[action];
    switch (action) {
      case 'guest_post': {
        // Editors take guest posts from mid-authority sites; the spot moves up after drift.
        const centre = 45 + 20 * drifted;
        z += 4 * Math.exp(-((authority - centre) ** 2) / (2 * 12 ** 2)) - 2;
        if (weekday >= 5) z -= 1.8;
        break;
      }
      case 'blog_comment':
        if (pageAge > 700) z -= 3; // comments closed on old posts
        if (outbound > 60) z -= 1.8; // spammy pages get moderated
        if (!dofollow) z += 0.4;
        break;
      case 'forum_post': {
        const night = hour < 7 || hour > 21;
        z += night ? -3 * (1 - drifted) : 0.8 * (1 - drifted);
        if (drifted && depth >= 2) z -= 1.6 * drifted;
        break;
      }
      case 'directory_submission':
        z += https ? 0.6 : -3;
        if (authority > 70) z -= 2;
        break;
      case 'social_bookmark':
        z += outbound < 20 ? 0.8 : -1;
        break;
      case 'wiki_edit':
        z += authority > 60 ? -2 : 1.2;
        break;
      case 'profile_link':
        z += dofollow ? 0.8 : -1.6;
        break;
      case 'resource_page':
        z += depth >= 3 ? 1.6 : -1.2;
        break;
    }
    z += 0.2 * normal(rand);

    const errP = (d.flaky ? 0.25 : errorRate) * (1 + drifted);
    let result: OutcomeResult;
    if (rand() < errP) result = 'error';
    else result = rand() < sigmoid(z) ? 'success' : 'failure';
    const execBase = action === 'guest_post' ? 40 : action === 'wiki_edit' ? 20 : 8;
    const execution = result === 'error' && rand() < 0.5 ? 120 : Math.round(execBase * Math.exp(0.5 * normal(rand)) * 10) / 10;
    const reasons = result === 'success' ? null : REASONS[result];
    yield {
      task_id: `${prefix}-${i}`,
      domain: d.name,
      url,
      action_attempted: action,
      result,
      failure_reason: reasons ? reasons[Math.floor(rand() * reasons.length)]! : null,
      execution_time: execution,
      model,
      model_version: modelVersion,
      response_time_ms: Math.round(Math.exp(1 + 0.45 * normal(rand)) * 100) / 100,
      timestamp: date.toISOString(),
      features: { dofollow, domain_authority: authority, outbound_links: outbound, page_age_days: pageAge },
    };
  }
}
