/**
 * Model engines selectable by name: retail24's own forest and ml-random-forest as a reference.
 */
import { fitRandomForest, type FitHooks, type ForestOptions } from './forest';
import type { Matrix } from './matrix';
import { fitReferenceForest } from './reference-forest';

export { ReferenceForest } from './reference-forest';

/** Engine names as stored in model envelopes and chosen in training requests. */
export const ENGINES = { retail24: 'retail24', mlRandomForest: 'ml-random-forest' } as const;
export type EngineName = (typeof ENGINES)[keyof typeof ENGINES];

/** What every engine's fitted model offers. */
export interface ProbabilisticModel {
  /** P(class 1) per row */
  predictProba(X: Matrix): Float64Array;
  predictProbaRow(row: ArrayLike<number>): number;
  /** importances summing to 1, or null when the engine cannot provide them */
  featureImportances(): Float64Array | null;
  readonly nFeatures: number;
}

/** Throw a RangeError unless `name` is a known engine. */
export function assertEngine(name: string): asserts name is EngineName {
  if (!Object.values(ENGINES).includes(name as EngineName)) {
    throw new RangeError(`unknown engine "${name}"; expected one of ${Object.values(ENGINES).join(', ')}`);
  }
}

/** Fit the named engine with the same options object. */
export async function fitEngine(engine: EngineName, X: Matrix, y: Uint8Array, options: Partial<ForestOptions> = {}, hooks: FitHooks = {}): Promise<ProbabilisticModel> {
  assertEngine(engine);
  return engine === ENGINES.retail24 ? fitRandomForest(X, y, options, hooks) : fitReferenceForest(X, y, options, hooks);
}
