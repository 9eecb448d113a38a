import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticData } from '../../../testkit/synthetic';
import { ENGINES, fitEngine, type ProbabilisticModel } from '../../../ml/engines';
import { fitRandomForest, type RandomForest } from '../../../ml/forest';
import { deserializeModel, serializeModel } from '../../../ml/serialize';
import type { ReferenceForest } from '../../../ml/reference-forest';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
const SPEC = { version: 3, topScreens: ['home', 'cart'] };

/** Rewrite one ASCII string inside the JSON header, keeping its length so offsets stay valid. */
function patchHeader(buf: Buffer, from: string, to: string): Buffer {
  expect(to).toHaveLength(from.length);
  const copy = Buffer.from(buf);
  const at = copy.indexOf(from, 8, 'utf8');
  copy.write(to, at, 'utf8');
  return copy;
}

describe('model envelope', () => {
  const data = makeSyntheticData(400, 6, 9);
  let forest: RandomForest;

  beforeAll(async () => {
    forest = await fitRandomForest(data.X, data.y, { nEstimators: 12, nThreads: 1 });
  });

  it('when a retail24 forest is saved and loaded, then it predicts bit-identically and keeps its metadata', () => {
    const loaded = deserializeModel(serializeModel(forest, { featureNames: NAMES, featureSpec: SPEC }));
    expect(loaded.engine).toBe(ENGINES.retail24);
    expect(loaded.featureNames).toEqual(NAMES);
    expect(loaded.featureSpec).toEqual(SPEC);
    expect(loaded.params).toEqual(forest.options);
    expect(Buffer.from(loaded.model.predictProba(data.X).buffer).equals(Buffer.from(forest.predictProba(data.X).buffer))).toBe(true);
    expect(Array.from(loaded.model.featureImportances() ?? [])).toEqual(Array.from(forest.featureImportances()));
  });

  it('when the kind is different, then loading throws naming the kind', () => {
    const buf = patchHeader(serializeModel(forest, { featureNames: NAMES, featureSpec: SPEC }), 'retail24.random-forest', 'retail24.random-fores2');
    expect(() => deserializeModel(buf)).toThrow(/unsupported model kind "retail24.random-fores2"/);
  });

  it('when the version is different, then loading throws naming the version', () => {
    const buf = patchHeader(serializeModel(forest, { featureNames: NAMES, featureSpec: SPEC }), '"version":1', '"version":9');
    expect(() => deserializeModel(buf)).toThrow(/version 9, expected 1/);
  });

  it('when a child index in the blob is damaged, then loading throws instead of scoring garbage', () => {
    const buf = serializeModel(forest, { featureNames: NAMES, featureSpec: SPEC });
    const header = JSON.parse(buf.toString('utf8', 8, 8 + buf.readUInt32LE(4))) as { arrays: { name: string; offset: number }[] };
    const left = header.arrays.find((a) => a.name === 'left');
    const dataStart = Math.ceil((8 + buf.readUInt32LE(4)) / 8) * 8;
    buf.writeInt32LE(1_000_000, dataStart + (left?.offset ?? 0));
    expect(() => deserializeModel(buf)).toThrow(/corrupt retail24 forest/);
  });

  it('when the bytes are not an envelope, then loading throws saying so', () => {
    expect(() => deserializeModel(Buffer.from('{"kind":"x"}'))).toThrow(/bad magic/);
  });

  it('when feature names do not match the model width, then saving throws a RangeError', () => {
    expect(() => serializeModel(forest, { featureNames: ['a'], featureSpec: SPEC })).toThrow(RangeError);
  });
});

describe('ml-random-forest reference engine', () => {
  // a few hundred rows: version 2.1.0 was measured to crash at 4,000 rows in its out-of-bag step
  const train = makeSyntheticData(300, 6, 21);
  const test = makeSyntheticData(200, 6, 22);
  let model: ProbabilisticModel;

  beforeAll(async () => {
    model = await fitEngine(ENGINES.mlRandomForest, train.X, train.y, { nEstimators: 15, maxDepth: 6, nThreads: 1 });
  }, 60_000);

  it('when fitted through fitEngine, then it returns one probability in [0, 1] per row', () => {
    const p = model.predictProba(test.X);
    expect(p).toHaveLength(200);
    expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
    // votes of 15 trees: every probability is a multiple of 1/15
    expect(p.every((v) => Math.abs(v * 15 - Math.round(v * 15)) < 1e-9)).toBe(true);
    expect(model.predictProbaRow(test.X.data.subarray(0, 6))).toBe(p[0]);
  });

  it('when saved and loaded, then it predicts the same and reports its engine', () => {
    const loaded = deserializeModel(serializeModel(model as ReferenceForest, { featureNames: NAMES, featureSpec: SPEC }));
    expect(loaded.engine).toBe(ENGINES.mlRandomForest);
    expect(Array.from(loaded.model.predictProba(test.X))).toEqual(Array.from(model.predictProba(test.X)));
  });

  it('when asked for balanced class weights, then it refuses with a RangeError', async () => {
    await expect(fitEngine(ENGINES.mlRandomForest, train.X, train.y, { classWeight: 'balanced' })).rejects.toThrow(/classWeight 'balanced' is not supported/);
  });

  it('when the engine name is unknown, then fitEngine throws a RangeError listing the engines', async () => {
    await expect(fitEngine('xgboost' as never, train.X, train.y)).rejects.toThrow(/unknown engine "xgboost".*retail24, ml-random-forest/);
  });
});
