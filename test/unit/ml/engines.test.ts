import { describe, expect, it } from 'vitest';
import { ENGINE_NAMES } from '../../../common/engines';
import { engineNamed, engineOf, fitEngine } from '../../../ml/engines';
import { paramsToOptions } from '../../../ml/grid';
import { deserializeModel, serializeModel } from '../../../ml/serialize';
import { makeSyntheticData } from '../../../testkit/synthetic';

describe('the engine seam (ml/engines.ts)', () => {
  it('every listed name has an engine whose fitted model it owns, and the envelope round-trips through it', async () => {
    const d = makeSyntheticData(400, 8, 5);
    for (const name of ENGINE_NAMES) {
      const model = await fitEngine(name, d.X, d.y, { nEstimators: 5, maxDepth: 4, nThreads: 1 });
      expect(engineOf(model).name).toBe(name);
      const loaded = deserializeModel(serializeModel(model, { featureNames: Array.from({ length: d.X.cols }, (_, i) => `f${i}`), featureSpec: null }));
      expect(loaded.engine).toBe(name);
      expect(Array.from(loaded.raw.predictProba(d.X))).toEqual(Array.from(model.predictProba(d.X)));
    }
  });

  it('an unknown engine, a model no engine owns, and a grid cell the engine refuses are errors naming them', () => {
    expect(() => engineNamed('xgboost')).toThrow(/unknown engine "xgboost"; expected one of retail24, ml-random-forest/);
    const stranger = { nFeatures: 1, predictProba: () => new Float64Array(0), predictProbaRow: () => 0, featureImportances: () => null };
    expect(() => serializeModel(stranger, { featureNames: ['a'], featureSpec: null })).toThrow(/no engine owns this model/);
    expect(() => paramsToOptions({ nEstimators: 0 }, 'ml-random-forest')).toThrow(/nEstimators must be an integer >= 1/);
  });
});
