/**
 * Feature transform versions, declared in code. A stored spec names the version it was fitted
 * with (`FeatureSpec.version`), and that version's code builds its vectors for as long as a model
 * fitted with it may be loaded: every version listed here stays loadable and scores
 * bit-identically (test/unit/data/golden.test.ts, one committed model per version).
 *
 * Vector layout of every version: its base features in order, then one `<group>_count` per screen
 * group, one `screen:<name>` per top screen, `other_screens`, `purchase_intent`, then the
 * pass-through columns.
 *
 * Adding a base feature: append a version here with the new `base` list (copy the previous one
 * and add the column), and point CURRENT_TRANSFORM_VERSION at it. New specs are fitted with it;
 * models of older versions keep their own list. Nothing else changes (names, offsets, the
 * reserved names of data/mapping.ts and the check of stored specs derive from this list).
 */
import type { UserRecord } from './record';

/** The user's first open in the spec's zone, computed once per row for every base feature. */
export interface LocalOpen {
  /** 0..23 */
  hour: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

export interface BaseFeature {
  name: string;
  value(user: UserRecord, open: LocalOpen, fills: { ageFill: number }): number;
}

export interface TransformVersion {
  version: number;
  base: readonly BaseFeature[];
}

const V1_BASE: readonly BaseFeature[] = [
  { name: 'hour_of_day', value: (_u, t) => t.hour },
  { name: 'day_of_week', value: (_u, t) => t.weekday },
  { name: 'is_weekend', value: (_u, t) => (t.weekday === 0 || t.weekday === 6 ? 1 : 0) },
  { name: 'age', value: (u, _t, f) => u.age ?? f.ageFill },
  { name: 'numscreens', value: (u) => u.numscreens },
];

/** Every released version, oldest first. */
export const TRANSFORMS: readonly TransformVersion[] = [{ version: 1, base: V1_BASE }];

/** The version new specs are fitted with. */
export const CURRENT_TRANSFORM_VERSION = 1;

/** Names the transform builds itself (any version's base features, and the screen summaries). */
export const BUILT_IN_FEATURE_NAMES: readonly string[] = [...new Set([...TRANSFORMS.flatMap((t) => t.base.map((b) => b.name)), 'other_screens', 'purchase_intent'])];

/** The code of version `version`, or undefined when this build does not know it. */
export function transformVersion(version: unknown): TransformVersion | undefined {
  return TRANSFORMS.find((t) => t.version === version);
}
