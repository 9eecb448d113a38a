/** ml-random-forest 2.1.0 as the reference engine (ml/reference-forest.ts); stored as its own toJSON() in one UTF-8 array. */
import type { Engine } from './engine';
import { selectRows } from './matrix';
import { ReferenceForest, fitReferenceForest } from './reference-forest';
import { FOREST_OPTIONS_SEAM, type ForestOptions } from './forest-options';

export const mlRandomForestEngine: Engine<ForestOptions, ReferenceForest> = {
  name: 'ml-random-forest',
  ...FOREST_OPTIONS_SEAM,
  // the reference engine fits on a copy of the rows: it runs on small data only
  fit: (X, y, options, hooks, at) => fitReferenceForest(at ? selectRows(X, at) : X, y, options, hooks),
  owns: (model): model is ReferenceForest => model instanceof ReferenceForest,
  toArrays: (model) => [['json', new TextEncoder().encode(JSON.stringify(model.toJSON()))]],
  fromArrays: (arrays, nFeatures, options) => ReferenceForest.fromJSON(JSON.parse(new TextDecoder().decode(arrays.json)), nFeatures, options),
};
