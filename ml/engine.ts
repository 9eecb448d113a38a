/**
 * The engine seam: what grid search, refit, the model envelope and scoring need from a learner.
 * One object per engine (ml/forest.ts, ml/reference-forest.ts), listed once in ml/engines.ts.
 */
import type { EngineName } from '../common/engines';
import type { Matrix, RowIndex } from './matrix';
import type { FitHooks } from './forest-pool';

export type { EngineName };

/** What every engine's fitted model offers. */
export interface ProbabilisticModel {
  /** P(class 1) per row */
  predictProba(X: Matrix): Float64Array;
  /** The same scores, a large batch spread over a forest thread as well (engines that can). */
  predictProbaAsync?(X: Matrix): Promise<Float64Array>;
  predictProbaRow(row: ArrayLike<number>): number;
  /** importances summing to 1, or null when the engine cannot provide them */
  featureImportances(): Float64Array | null;
  readonly nFeatures: number;
}

export type StoredArray = Float64Array | Int32Array | Uint8Array;

export interface Engine<O extends object = object, M extends ProbabilisticModel = ProbabilisticModel> {
  readonly name: EngineName;
  /** The options with defaults merged in; RangeError names an unknown option or a bad value (grid cells are checked with it). */
  resolveOptions(params: Record<string, unknown>): O;
  /** Fits on X, or with `at` on the rows `at` of X (y: one label per entry of `at`), as on a copy of those rows. */
  fit(X: Matrix, y: Uint8Array, options: Partial<O>, hooks?: FitHooks, at?: RowIndex): Promise<M>;
  /** Whether `model` was fitted by this engine. */
  owns(model: ProbabilisticModel): model is M;
  /** The resolved options a fitted model was built with (stored in the envelope). */
  optionsOf(model: M): O;
  /** The arrays the envelope stores for `model`. */
  toArrays(model: M): [string, StoredArray][];
  /** A model from its stored arrays; CorruptArtifactError when they do not fit together. */
  fromArrays(arrays: Record<string, StoredArray>, nFeatures: number, options: O): M;
}
