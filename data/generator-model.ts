/**
 * The synthetic user model behind `generateUsers` (documented in data/GENERATOR.md). Kept apart
 * from the output code so the probability model reads in one place.
 */
import { seededRng, cumulative, type Rng } from '../ml/rng';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** About 60 screens in the groups DATA.md lists; within a group earlier screens are more popular. */
export const SCREEN_CATALOG = {
  onboarding: ['splash', 'welcome', 'intro_1', 'intro_2', 'intro_3', 'permissions', 'tutorial'],
  browse: ['home', 'feed', 'categories', 'category_women', 'category_men', 'category_kids', 'category_home',
    'category_electronics', 'new_arrivals', 'bestsellers', 'trending', 'notifications'],
  product: ['product_view', 'product_gallery', 'product_details', 'product_reviews', 'similar_products', 'size_guide', 'wishlist'],
  search: ['search', 'search_results', 'search_filters', 'recent_searches', 'barcode_scan'],
  cart: ['cart', 'add_to_cart', 'cart_edit', 'saved_for_later'],
  checkout: ['checkout_address', 'checkout_delivery', 'checkout_payment', 'checkout_review', 'payment_methods'],
  account: ['login', 'signup', 'profile', 'account_settings', 'addresses', 'order_history', 'notification_settings', 'loyalty'],
  promo: ['deals', 'promo_banner', 'coupons', 'flash_sale', 'offer_details', 'referral'],
  support: ['help_center', 'faq', 'contact_support', 'chat_support', 'returns_info', 'store_locator'],
} as const;

type Group = keyof typeof SCREEN_CATALOG;
const BROWSING: Group[] = ['browse', 'product', 'search', 'cart', 'checkout', 'account', 'promo', 'support'];
const G = Object.fromEntries(BROWSING.map((g, i) => [g, i])) as Record<Group, number>;

/** Relative group weights per step and how strongly intent z tilts them (weight × e^(k·z)). */
const GROUP_BASE = {
  normal: [30, 22, 10, 6, 2, 6, 6, 3],
  drift: [24, 16, 5, 4, 1.5, 5, 18, 6],
  // Shift `behaviour`: product 22 → 12, cart 6 → 3, checkout 2 → 1, promo 6 → 18, support 3 → 10.
  behaviour: [30, 12, 10, 3, 1, 6, 18, 10],
};
const GROUP_TILT = [0, 0.3, 0.2, 0.9, 1.2, 0.1, 0.1, -0.2];
/** Share of 24 h first opens per UTC hour: quiet nights, lunch bump, evening peak. */
const HOUR_WEIGHTS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 3.5, 3.8, 4.5, 4.2, 3.6, 3.5, 3.8, 4.3, 5, 5.8, 6.2, 5.8, 4.2, 2.5];
/** Sunday … Saturday: weekends busier. */
const WEEKDAY_WEIGHTS = [1.25, 0.9, 0.9, 0.95, 1, 1.1, 1.3];

/** P(purchase within 24 h | purchase): the rest buy later, a negative label. */
export const WITHIN_24H_SHARE = 0.85;
const FAST_DELAY_MEAN_H = 2;
const LATE_DELAY_MEAN_H = 72;
const AGE_MISSING_SHARE = 0.03;

/**
 * A shift of one mechanism, the others left as normal (data/GENERATOR.md "Partial shifts"):
 * `behaviour` changes the screen mix only, `conversion` the purchase rate only.
 */
export const SHIFTS = ['behaviour', 'conversion'] as const;
export type Shift = (typeof SHIFTS)[number];

/** Shift `conversion`: the intercept is calibrated to this share of the base rate (a third fewer buyers). */
export const CONVERSION_RATE_FACTOR = 2 / 3;

export interface ModelContext {
  drift: boolean;
  /** Browsing group base weights in BROWSING order (normal, drift or the behaviour shift's). */
  groupBase: readonly number[];
  startMs: number;
  dayCum: Float64Array;
  hourCum: Float64Array;
  screenCum: Float64Array[];
}

/** What one simulated user looks like, plus the logit of purchasing without the intercept. */
export interface SimUser {
  firstOpen: number;
  screens: string[];
  age: number | null;
  minigame: 0 | 1;
  liked: 0 | 1;
  score: number;
}

export function makeContext(drift: boolean, startMs: number, days: number, shift: Shift | null = null): ModelContext {
  const dayW = Array.from({ length: days }, (_, d) => WEEKDAY_WEIGHTS[new Date(startMs + d * DAY_MS).getUTCDay()] * (1 + 0.01 * d));
  // Drift: 4x the night traffic (22:00–04:59), e.g. a campaign in another region.
  const hourW = HOUR_WEIGHTS.map((w, h) => (drift && (h >= 22 || h < 5) ? w * 4 : w));
  const screenCum = BROWSING.map((g) => cumulative(SCREEN_CATALOG[g].map((_, i) => 1 / (i + 1))));
  const groupBase = drift ? GROUP_BASE.drift : shift === 'behaviour' ? GROUP_BASE.behaviour : GROUP_BASE.normal;
  return { drift, groupBase, startMs, dayCum: cumulative(dayW), hourCum: cumulative(hourW), screenCum };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Simulates one user's first day. Draw order is fixed, so a seed fixes every byte. */
export function simulateUser(rng: Rng, ctx: ModelContext): SimUser {
  const day = rng.pick(ctx.dayCum);
  const hour = rng.pick(ctx.hourCum);
  const firstOpen = ctx.startMs + day * DAY_MS + hour * HOUR_MS + Math.floor(rng.next() * HOUR_MS);
  const ageDraw = 16 + Math.exp(Math.log(ctx.drift ? 26 : 15) + 0.45 * rng.normal());
  const age = rng.next() < AGE_MISSING_SHARE ? null : Math.min(95, Math.round(ageDraw));
  const z = rng.normal(); // hidden purchase intent
  const night = hour >= 23 || hour < 5 ? 1 : 0;

  const screens: string[] = ['splash'];
  const onboarding = SCREEN_CATALOG.onboarding;
  if (rng.next() < 0.8) screens.push('welcome');
  for (let i = 2; i < 5 && rng.next() < 0.5; i++) screens.push(onboarding[i]);
  if (rng.next() < 0.4) screens.push('permissions');
  // Visit length: log-normal (long tail), longer with intent, shorter at night and under drift.
  const mu = Math.log(ctx.drift ? 5 : 7) + 0.35 * z - 0.3 * night;
  const steps = Math.min(250, Math.floor(Math.exp(mu + 0.7 * rng.normal())));
  const groupCum = cumulative(ctx.groupBase.map((w, g) => w * Math.exp(GROUP_TILT[g] * z)));
  const counts = new Int32Array(BROWSING.length);
  for (let s = 0; s < steps; s++) {
    let g = rng.pick(groupCum);
    if (g === G.checkout && counts[G.cart] === 0) g = G.cart; // checkout only after a cart visit
    counts[g]++;
    screens.push(SCREEN_CATALOG[BROWSING[g]][rng.pick(ctx.screenCum[g])]);
  }
  const minigame: 0 | 1 = rng.next() < sigmoid(-1 + 0.5 * z) ? 1 : 0;
  const liked: 0 | 1 = rng.next() < 0.35 ? 1 : 0;

  const ageEffect = age === null ? 0 : -0.0006 * (age - 35) * (age - 35);
  const score = 1.45 * z
    + 0.35 * Math.min(counts[G.cart], 5) + 0.5 * Math.min(counts[G.checkout], 3)
    + 0.08 * Math.min(counts[G.product], 10) + 0.05 * Math.min(counts[G.search], 6)
    + 0.05 * Math.min(counts[G.promo], 6) - 0.25 * (counts[G.support] > 0 ? 1 : 0)
    - 0.5 * night + ageEffect + 0.25 * minigame
    + (ctx.drift ? -0.35 : 0); // drift: lower conversion at equal behaviour
  return { firstOpen, screens, age, minigame, liked, score };
}

/** True P(label = 1) given the model's logit. */
export function trueProbability(b0: number, score: number): number {
  return WITHIN_24H_SHARE * sigmoid(b0 + score);
}

/** Draws purchase and delay; returns the purchase time or null. Uses 3 draws always (fixed stream). */
export function drawPurchase(rng: Rng, b0: number, u: SimUser): number | null {
  const buys = rng.next() < sigmoid(b0 + u.score);
  const fast = rng.next() < WITHIN_24H_SHARE;
  const v = rng.next();
  if (!buys) return null;
  if (fast) {
    // Exponential(mean 2 h) truncated to [0, 24 h) by inverse CDF.
    const cap = 1 - Math.exp(-24 / FAST_DELAY_MEAN_H);
    return u.firstOpen + Math.floor(-FAST_DELAY_MEAN_H * HOUR_MS * Math.log(1 - v * cap));
  }
  return u.firstOpen + DAY_MS + 1000 + Math.floor(-LATE_DELAY_MEAN_H * HOUR_MS * Math.log(1 - v));
}

/**
 * Intercept b0 such that the mean true probability is `baseRate` on a pilot of normal (non-drift)
 * users drawn from their own seed; bisection, since the mean is monotone in b0.
 */
export function calibrateIntercept(baseRate: number, seed: number, startMs: number, days: number, pilot = 20_000): number {
  const rng = seededRng((seed ^ 0x5bd1e995) >>> 0);
  const ctx = makeContext(false, startMs, days);
  const scores = new Float64Array(pilot);
  for (let i = 0; i < pilot; i++) scores[i] = simulateUser(rng, ctx).score;
  let lo = -20, hi = 20;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    let mean = 0;
    for (let i = 0; i < pilot; i++) mean += trueProbability(mid, scores[i]);
    if (mean / pilot < baseRate) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
