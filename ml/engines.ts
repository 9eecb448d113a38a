/**
 * Every engine, listed once. Adding one: a file with its `Engine` object (see ml/engine-mlrf.ts,
 * ml/engine.ts for the interface), its name in common/engines.ts, and one line here.
 */
import { ENGINE_NAMES, type EngineName } from '../common/engines';
import type { Engine, ProbabilisticModel } from './engine';
import type { FitHooks } from './forest-pool';
import { assertRowIndex, selectRows, type Matrix, type RowIndex } from './matrix';
import { retail24Engine } from './engine-retail24';
import { mlRandomForestEngine } from './engine-mlrf';

export type { Engine, EngineName, ProbabilisticModel };
export { ReferenceForest } from './reference-forest';

const REGISTRY: Record<EngineName, Engine<object, ProbabilisticModel>> = {
  retail24: retail24Engine as unknown as Engine<object, ProbabilisticModel>,
  'ml-random-forest': mlRandomForestEngine as unknown as Engine<object, ProbabilisticModel>,
};

/** Engine names by role, for code that names one. */
export const ENGINES = { retail24: 'retail24', mlRandomForest: 'ml-random-forest' } as const satisfies Record<string, EngineName>;

/** Throw a RangeError unless `name` is a known engine. */
export function assertEngine(name: string): asserts name is EngineName {
  if (!(ENGINE_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`unknown engine "${name}"; expected one of ${ENGINE_NAMES.join(', ')}`);
  }
}

/** The engine called `name`. @throws RangeError naming an unknown engine */
export function engineNamed(name: string): Engine<object, ProbabilisticModel> {
  assertEngine(name);
  return REGISTRY[name];
}

/** The engine that fitted `model`. @throws RangeError for a model no engine owns */
export function engineOf(model: ProbabilisticModel): Engine<object, ProbabilisticModel> {
  const e = Object.values(REGISTRY).find((x) => x.owns(model));
  if (!e) throw new RangeError(`no engine owns this model (${model.constructor.name})`);
  return e;
}

/** Fit the named engine on X, or with `at` on the rows `at` of X read in place (y: one label per entry of `at`). */
export async function fitEngine(engine: EngineName, X: Matrix, y: Uint8Array, options: object = {}, hooks: FitHooks = {}, at?: RowIndex): Promise<ProbabilisticModel> {
  return engineNamed(engine).fit(X, y, options, hooks, at);
}

/** Rows gathered per block by {@link predictProbaAt}: 4,096 rows of 52 features are 1.7 MB. */
const PREDICT_AT_BLOCK = 4096;

/**
 * P(class 1) of the rows `at` of X, in that order: the same values as `model.predictProba` on a
 * copy of those rows (each row's score depends on that row only), gathered a block at a time so a
 * holdout or a fold of a million-row matrix is never copied whole.
 */
export function predictProbaAt(model: ProbabilisticModel, X: Matrix, at: RowIndex): Float64Array {
  assertRowIndex(X, at);
  const out = new Float64Array(at.length);
  for (let i = 0; i < at.length; i += PREDICT_AT_BLOCK) {
    const block = at.subarray(i, Math.min(at.length, i + PREDICT_AT_BLOCK));
    out.set(model.predictProba(selectRows(X, block)), i);
  }
  return out;
}
