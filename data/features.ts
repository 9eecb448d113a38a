/**
 * The feature spec (DATA.md "Features"): fitted once on a training snapshot, frozen, stored with
 * every model, and the only input (besides the user) of `transform`, so batch training and online
 * scoring build the same vector. Label, purchase time and user id are never read here.
 */
import { FeatureSpecError } from './errors';
import type { UserRecord } from './record';
import { isValidTimeZone } from './timestamp';
import { compileSpec, writeRow } from './feature-row';
import { FEATURE_SPEC_KIND, FEATURE_SPEC_VERSION, type FeatureSpec } from './feature-spec';
import { TRANSFORMS, transformVersion } from './transforms';

export { FEATURE_SPEC_KIND, FEATURE_SPEC_VERSION, type FeatureSpec } from './feature-spec';

export interface FeatureSpecOptions {
  /** Number of top screens that get their own column. @default 40 */
  topK: number;
  /** @default DEFAULT_GROUPS */
  groups: Record<string, string[]>;
  /** Missing groups weigh 0. @default DEFAULT_INTENT_WEIGHTS (for the groups it names) */
  intentWeights: Record<string, number>;
  /** @default the extra keys every snapshot user has, sorted */
  passThrough: string[];
  /** @default 'UTC' */
  timezone: string;
}

/** DATA.md's groups: cart and shopping as listed there, account/promo/support by common names. */
export const DEFAULT_GROUPS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  cart: ['cart', 'basket', 'checkout'],
  shopping: ['shop', 'product', 'catalog', 'category', 'search'],
  account: ['account', 'profile', 'login', 'signup', 'register', 'setting'],
  promo: ['promo', 'coupon', 'offer', 'deal', 'sale', 'discount'],
  support: ['support', 'help', 'faq', 'contact', 'chat'],
});

/** Cart weighs most (DATA.md); support visits often mean trouble, so they weigh nothing. */
export const DEFAULT_INTENT_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  cart: 3, shopping: 1, promo: 0.5, account: 0.5, support: 0,
});

/** The base feature names of the current transform version (data/transforms.ts declares them). */
export const BASE_FEATURES: readonly string[] = transformVersion(FEATURE_SPEC_VERSION)!.base.map((b) => b.name);

function median(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

function namesOf(s: Pick<FeatureSpec, 'version' | 'groups' | 'topScreens' | 'passThrough'>): string[] {
  return [
    ...transformVersion(s.version)!.base.map((b) => b.name), ...Object.keys(s.groups).map((g) => `${g}_count`),
    ...s.topScreens.map((n) => `screen:${n}`), 'other_screens', 'purchase_intent', ...s.passThrough,
  ];
}

function checkOptions(o: FeatureSpecOptions): void {
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new RangeError(`topK must be a non-negative integer, got ${o.topK}`);
  if (!isValidTimeZone(o.timezone)) throw new RangeError(`timezone must be an IANA zone, got ${JSON.stringify(o.timezone)}`);
  for (const [g, patterns] of Object.entries(o.groups)) {
    if (!/^[a-z][a-z0-9_]*$/.test(g)) throw new RangeError(`group name must be lower snake case, got ${JSON.stringify(g)}`);
    if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw new RangeError(`groups.${g} must be non-empty strings, got ${JSON.stringify(patterns)}`);
    }
  }
  for (const [g, w] of Object.entries(o.intentWeights)) {
    if (!(g in o.groups)) throw new RangeError(`intentWeights.${g} names no group (groups: ${Object.keys(o.groups).join(', ')})`);
    if (!Number.isFinite(w)) throw new RangeError(`intentWeights.${g} must be finite, got ${w}`);
  }
}

function pick(weights: Readonly<Record<string, number>>, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.filter((k) => k in weights).map((k) => [k, weights[k]]));
}

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

/**
 * Fits a frozen spec on a snapshot: top-K screens by total occurrences (ties by name, so the
 * result does not depend on user order), median age and pass-through fills.
 * @throws RangeError naming a bad option, or a pass-through name colliding with a built-in feature.
 */
export function fitFeatureSpec(users: Iterable<UserRecord>, options: Partial<FeatureSpecOptions> = {}): FeatureSpec {
  const groupsIn = options.groups ?? DEFAULT_GROUPS;
  const o: FeatureSpecOptions = {
    topK: options.topK ?? 40,
    groups: Object.fromEntries(Object.entries(groupsIn).map(([g, p]) => [g, p.map((s) => s.trim().toLowerCase())])),
    intentWeights: { ...(options.intentWeights ?? pick(DEFAULT_INTENT_WEIGHTS, Object.keys(groupsIn))) },
    passThrough: options.passThrough ? [...options.passThrough] : [],
    timezone: options.timezone ?? 'UTC',
  };
  checkOptions(o);
  const counts = new Map<string, number>();
  const ages: number[] = [];
  let extraKeys: Set<string> | null = null;
  const extraValues = new Map<string, number[]>();
  let n = 0;
  for (const u of users) {
    n++;
    for (const s of u.screens) counts.set(s, (counts.get(s) ?? 0) + 1);
    if (u.age !== null) ages.push(u.age);
    const keys = Object.keys(u.extra);
    extraKeys = extraKeys === null ? new Set(keys) : new Set(keys.filter((k) => extraKeys!.has(k)));
    for (const k of keys) {
      let arr = extraValues.get(k);
      if (!arr) extraValues.set(k, (arr = []));
      arr.push(u.extra[k]);
    }
  }
  const passThrough = options.passThrough ? o.passThrough : [...(extraKeys ?? [])].sort();
  const topScreens = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, o.topK)
    .map(([s]) => s);
  const intentWeights: Record<string, number> = {};
  for (const g of Object.keys(o.groups)) intentWeights[g] = o.intentWeights[g] ?? 0;
  const spec: FeatureSpec = {
    kind: FEATURE_SPEC_KIND, version: FEATURE_SPEC_VERSION, names: [], timezone: o.timezone, topScreens,
    groups: o.groups, intentWeights, ageFill: median(ages), passThrough,
    passThroughFill: Object.fromEntries(passThrough.map((k) => [k, median(extraValues.get(k) ?? [])])), fittedOn: n,
  };
  spec.names = namesOf(spec);
  const dup = spec.names.find((name, i) => spec.names.indexOf(name) !== i);
  if (dup !== undefined) throw new RangeError(`feature name ${JSON.stringify(dup)} would appear twice (pass-through vs built-in)`);
  return deepFreeze(spec);
}

/** Vector of one user, in `spec.names` order. Writes into `out` when given (length >= names.length). */
export function transform(spec: FeatureSpec, user: UserRecord, out?: Float64Array): Float64Array {
  const c = compileSpec(spec);
  const row = out ?? new Float64Array(c.width);
  if (row.length < c.width) throw new RangeError(`out has length ${row.length}, spec needs ${c.width}`);
  writeRow(c, user, row, 0);
  return row;
}

/** Row-major matrix (users.length × names.length), same values as `transform` row by row. */
export function transformBatch(spec: FeatureSpec, users: readonly UserRecord[], out?: Float64Array): Float64Array {
  const c = compileSpec(spec);
  const size = users.length * c.width;
  const X = out ?? new Float64Array(size);
  if (X.length < size) throw new RangeError(`out has length ${X.length}, batch needs ${size}`);
  for (let i = 0; i < users.length; i++) writeRow(c, users[i], X, i * c.width);
  return X;
}

/**
 * Checks that `x` is a feature spec this code can apply (kind, version, consistent names).
 * @throws FeatureSpecError saying what was found instead.
 */
export function assertSpec(x: unknown): FeatureSpec {
  const s = x as Partial<FeatureSpec> | null;
  if (!s || typeof s !== 'object' || s.kind !== FEATURE_SPEC_KIND || !transformVersion(s.version)) {
    const known = TRANSFORMS.map((t) => t.version).join(', ');
    throw new FeatureSpecError(
      `expected a ${FEATURE_SPEC_KIND} of a transform version this build knows (${known}), got kind ${JSON.stringify(s?.kind)} version ${JSON.stringify(s?.version)}`,
      s?.kind, s?.version);
  }
  const arrays = ['names', 'topScreens', 'passThrough'] as const;
  for (const k of arrays) if (!Array.isArray(s[k])) throw new FeatureSpecError(`feature spec field ${k} must be an array`, s.kind, s.version);
  for (const k of ['groups', 'intentWeights', 'passThroughFill'] as const) {
    if (!s[k] || typeof s[k] !== 'object') throw new FeatureSpecError(`feature spec field ${k} must be an object`, s.kind, s.version);
  }
  if (typeof s.ageFill !== 'number' || typeof s.timezone !== 'string' || !isValidTimeZone(s.timezone)) {
    throw new FeatureSpecError('feature spec needs a numeric ageFill and an IANA timezone', s.kind, s.version);
  }
  const expected = namesOf(s as FeatureSpec);
  if (expected.join('\u0000') !== s.names!.join('\u0000')) {
    throw new FeatureSpecError('feature spec names do not match its groups/topScreens/passThrough (edited or corrupt)', s.kind, s.version);
  }
  return s as FeatureSpec;
}
