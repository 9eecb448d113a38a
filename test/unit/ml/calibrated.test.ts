import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticData } from '../../../testkit/synthetic';
import { fitRandomForest, type RandomForest } from '../../../ml/forest';
import { deserializeModel, serializeModel } from '../../../ml/serialize';
import { applyCalibrator, fitIsotonic, type Calibrator } from '../../../ml/calibration';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('calibrated model envelope', () => {
  const data = makeSyntheticData(2000, 6, 5);
  let forest: RandomForest;
  let cal: Calibrator;

  beforeAll(async () => {
    forest = await fitRandomForest(data.X, data.y, { nEstimators: 15, nThreads: 1, classWeight: 'balanced' });
    cal = fitIsotonic(forest.predictProba(data.X), data.y);
  });

  it('when an envelope carries a calibrator, then every scoring path of the loaded model returns calibrated probabilities', () => {
    const loaded = deserializeModel(serializeModel(forest, { featureNames: NAMES, featureSpec: {}, calibrator: cal }));
    expect(loaded.calibrator).toEqual(cal);
    const raw = forest.predictProba(data.X);
    const batch = loaded.model.predictProba(data.X);
    for (let i = 0; i < 50; i++) {
      const row = data.X.data.subarray(i * 6, i * 6 + 6);
      expect(loaded.model.predictProbaRow(row)).toBe(applyCalibrator(cal, raw[i]!));
      expect(batch[i]).toBe(applyCalibrator(cal, raw[i]!));
    }
    // The raw forest stays reachable and unchanged.
    expect(loaded.raw.predictProbaRow(data.X.data.subarray(0, 6))).toBe(raw[0]);
  });

  it('when an envelope has no calibrator (written before calibration), then it loads as identity', () => {
    const loaded = deserializeModel(serializeModel(forest, { featureNames: NAMES, featureSpec: {} }));
    expect(loaded.calibrator).toEqual({ kind: 'identity' });
    expect(loaded.model.predictProbaRow(data.X.data.subarray(0, 6))).toBe(forest.predictProbaRow(data.X.data.subarray(0, 6)));
  });

  it('when a stored calibrator is damaged, then loading fails naming the calibrator', () => {
    const bad = { kind: 'isotonic', x: [0.5, 0.2], y: [0.1, 0.2], n: 2 } as unknown as Calibrator;
    expect(() => deserializeModel(serializeModel(forest, { featureNames: NAMES, featureSpec: {}, calibrator: bad }))).toThrow(/isotonic calibrator needs increasing/);
    const unknown = { kind: 'beta' } as unknown as Calibrator;
    expect(() => deserializeModel(serializeModel(forest, { featureNames: NAMES, featureSpec: {}, calibrator: unknown }))).toThrow(/unknown calibrator kind "beta"/);
  });
});
