/** retail24's own histogram Random Forest as an engine (ml/forest.ts). */
import { CorruptArtifactError } from '../common/errors';
import type { Engine, StoredArray } from './engine';
import { RandomForest, fitRandomForest, type FlatForest } from './forest';
import { FOREST_OPTIONS_SEAM, type ForestOptions } from './forest-options';

/** Check a loaded forest's arrays fit together, so a damaged blob fails here and not as NaN scores. */
function checkFlatForest(arrays: Record<string, StoredArray>, nFeatures: number): FlatForest {
  for (const name of ['feature', 'threshold', 'left', 'value', 'roots', 'depths', 'importances']) {
    if (!arrays[name]) throw new CorruptArtifactError(`model envelope lacks the "${name}" array of a retail24 forest`);
  }
  const flat = { ...arrays, cover: arrays.cover ?? new Float64Array(0) } as unknown as FlatForest;
  const nodes = flat.feature.length;
  const coverOk = flat.cover instanceof Float64Array && (flat.cover.length === 0 || flat.cover.length === nodes);
  const sameLength = flat.threshold.length === nodes && flat.left.length === nodes && flat.value.length === nodes && coverOk;
  let inRange = flat.roots.every((r) => r >= 0 && r < nodes);
  for (let i = 0; i < nodes && inRange && sameLength; i++) {
    const f = flat.feature[i];
    const c = flat.left[i];
    // a split needs both children (left, left + 1); a leaf points at itself
    inRange = f < nFeatures && (f < 0 ? f === -1 && c === i : c >= 0 && c + 1 < nodes);
    // TreeSHAP divides by covers: a zero, negative or non-finite one would turn explanations into NaN
    if (flat.cover.length > 0 && !(flat.cover[i] > 0 && flat.cover[i] < Infinity)) inRange = false;
  }
  if (!sameLength || !inRange || flat.roots.length !== flat.depths.length || flat.importances.length !== nFeatures) {
    throw new CorruptArtifactError('corrupt retail24 forest in model envelope: node arrays are inconsistent');
  }
  return flat;
}

export const retail24Engine: Engine<ForestOptions, RandomForest> = {
  name: 'retail24',
  ...FOREST_OPTIONS_SEAM,
  fit: (X, y, options, hooks, at) => fitRandomForest(X, y, options, hooks, at),
  owns: (model): model is RandomForest => model instanceof RandomForest,
  // an empty cover (a forest loaded from an envelope without one) is left out: saved again, it stays such an envelope
  toArrays: (model) => (Object.entries(model.flat) as [string, StoredArray][]).filter(([name, a]) => name !== 'cover' || a.length > 0),
  fromArrays: (arrays, nFeatures, options) => new RandomForest(options, nFeatures, checkFlatForest(arrays, nFeatures)),
};
