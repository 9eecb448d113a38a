/** The stored shape of a fitted feature spec (data/features.ts fits it, data/feature-row.ts compiles it). */
export const FEATURE_SPEC_KIND = 'retail24.feature-spec';
/** The transform version new specs are fitted with (data/transforms.ts). */
export { CURRENT_TRANSFORM_VERSION as FEATURE_SPEC_VERSION } from './transforms';

export interface FeatureSpec {
  kind: typeof FEATURE_SPEC_KIND;
  /** The feature transform version (data/transforms.ts) whose code builds this spec's vectors. */
  version: number;
  /** Column order of every vector. */
  names: string[];
  /** IANA zone for hour_of_day / day_of_week / is_weekend. */
  timezone: string;
  /** The K most frequent screens of the snapshot, most frequent first; column `screen:<name>`. */
  topScreens: string[];
  /** Group -> lower-case substrings; a screen counts once in every group one of whose patterns it contains. */
  groups: Record<string, string[]>;
  /** Group -> weight of its count in purchase_intent. */
  intentWeights: Record<string, number>;
  /** Median snapshot age, used when age is null. */
  ageFill: number;
  /** Pass-through feature names (UserRecord.extra keys). */
  passThrough: string[];
  /** Median snapshot value per pass-through name, used when a user lacks it. */
  passThroughFill: Record<string, number>;
  /** Number of users the spec was fitted on. */
  fittedOn: number;
}
