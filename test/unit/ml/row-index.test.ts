import { describe, expect, it } from 'vitest';
import { makeSyntheticData } from '../../../testkit/synthetic';
import { fitRandomForest, fitTreeRange, type RandomForest } from '../../../ml/forest';
import { fitEngine, predictProbaAt } from '../../../ml/engines';
import { runCvCell } from '../../../ml/grid';
import { stratifiedKFold } from '../../../ml/cv';
import { quantize } from '../../../ml/quantize';
import { singleFeatureAuc } from '../../../ml/compare';
import { ReferenceSketch, referenceHistograms } from '../../../ml/drift';
import { mulberry32 } from '../../../ml/rng';
import { selectLabels, selectRows } from '../../../ml/matrix';

/**
 * Fits, folds and holdout scores read the rows they use through an index instead of a copy of
 * them (the copies were most of a million-user worker's memory). Each result must be the one the
 * copy gives, bit for bit. The index is out of order and repeats a row, so an implementation that
 * ignored it, sorted it or read the first `at.length` rows would differ (checked below: the fit
 * on the index is not the fit on the whole matrix).
 */
const { X, y } = makeSyntheticData(3000, 10, 11);
const at = Int32Array.from({ length: 1500 }, (_, i) => (i === 7 ? 12 : (i * 7919) % 3000));
const copy = selectRows(X, at);
const yAt = selectLabels(y, at);
const options = { nEstimators: 17, maxDepth: 7, seed: 5, classWeight: 'balanced' as const };

function same(a: RandomForest, b: RandomForest): void {
  for (const k of Object.keys(a.flat) as (keyof RandomForest['flat'])[]) expect(Array.from(b.flat[k]), k).toEqual(Array.from(a.flat[k]));
}

describe('rows read in place through an index', () => {
  it('when a forest is fitted on rows by index (1 and 2 threads), then it is the forest of a copy of those rows, bit for bit', async () => {
    for (const nThreads of [1, 2]) {
      const onCopy = await fitRandomForest(copy, yAt, { ...options, nThreads });
      same(onCopy, await fitRandomForest(X, yAt, { ...options, nThreads }, {}, at));
    }
    const onAll = await fitRandomForest(X, y, { ...options, nThreads: 1 });
    expect(Array.from(onAll.flat.threshold)).not.toEqual(Array.from((await fitRandomForest(copy, yAt, { ...options, nThreads: 1 })).flat.threshold));
  });

  it('when a tree shard or the reference engine fits by index, then it equals the fit on the copy', async () => {
    const a = await fitTreeRange(copy, yAt, { ...options, nThreads: 1 }, { from: 3, to: 9 });
    const b = await fitTreeRange(X, yAt, { ...options, nThreads: 1 }, { from: 3, to: 9 }, {}, at);
    expect(b.map((t) => Array.from(t.threshold))).toEqual(a.map((t) => Array.from(t.threshold)));
    const small = at.subarray(0, 300);
    const ref = { nEstimators: 5, maxDepth: 4, seed: 2, classWeight: 'none' as const };
    const r1 = await fitEngine('ml-random-forest', selectRows(X, small), selectLabels(y, small), ref);
    const r2 = await fitEngine('ml-random-forest', X, selectLabels(y, small), ref, {}, small);
    expect(Array.from(r2.predictProba(X))).toEqual(Array.from(r1.predictProba(X)));
  });

  it('when rows are quantised by index past the edge sample size (200,000 rows), then codes and edges equal the copy\'s', () => {
    const big = makeSyntheticData(120_000, 6, 3).X;
    const idx = Int32Array.from({ length: 210_000 }, (_, i) => (i * 104_729) % 120_000);
    const a = quantize(selectRows(big, idx), 255, 9);
    const b = quantize(big, 255, 9, false, idx);
    expect(Buffer.from(b.codes).equals(Buffer.from(a.codes))).toBe(true);
    expect(Array.from(b.edges)).toEqual(Array.from(a.edges));
    expect(Array.from(b.edgeOffsets)).toEqual(Array.from(a.edgeOffsets));
  });

  it('when rows are scored by index across block boundaries (4,096 rows a block), then each score is the copy\'s', async () => {
    const m = await fitRandomForest(X, y, { ...options, nThreads: 1 });
    const many = Int32Array.from({ length: 10_000 }, (_, i) => (i * 31) % 3000);
    expect(Array.from(predictProbaAt(m, X, many))).toEqual(Array.from(m.predictProba(selectRows(X, many))));
    expect(() => predictProbaAt(m, X, Int32Array.from([0, 3000]))).toThrow('row index 1 is 3000; X has 3000 rows');
  });

  it('when a grid cell runs on the training rows of a larger matrix, then score, out-of-fold indices and probabilities equal the cell on a copy', async () => {
    const folds = stratifiedKFold(yAt, 3, 4);
    const args = { y: yAt, folds, foldIndex: 1, params: { ...options, nThreads: 1 }, scoring: 'precision_at_target_recall' as const, targetRecall: 0.9 };
    const a = await runCvCell({ ...args, X: copy });
    const b = await runCvCell({ ...args, X, rows: at });
    expect(b.score).toBe(a.score);
    expect(b.metrics).toEqual(a.metrics);
    expect(Array.from(b.testIndices)).toEqual(Array.from(a.testIndices));
    expect(Array.from(b.testProba)).toEqual(Array.from(a.testProba));
    await expect(runCvCell({ ...args, X, rows: at.subarray(1) })).rejects.toThrow('folds has 1500 entries, the data has 1499 rows');
  });

  it('when the leakage guard and the reference histograms read training rows by index, then they equal the copy\'s', () => {
    expect(Array.from(singleFeatureAuc(X.data, X.rows, X.cols, yAt, at))).toEqual(Array.from(singleFeatureAuc(copy.data, copy.rows, copy.cols, yAt)));
    const names = Array.from({ length: X.cols }, (_, i) => `f${i}`);
    expect(referenceHistograms(names, X.data, X.rows, 10, at)).toEqual(referenceHistograms(names, copy.data, copy.rows, 10));
  });

  it('when an index names a row outside the matrix, then the fit refuses it naming the entry', async () => {
    await expect(fitRandomForest(X, yAt, options, {}, Int32Array.from(at).fill(-1, 4, 5))).rejects.toThrow('row index 4 is -1; X has 3000 rows');
  });
});

describe('reference histograms from rows seen a chunk at a time', () => {
  // Columns of every kind the snapshot has: a 0/1 flag, small counts, a constant, one with NaN
  // gaps, an all-NaN one, and a continuous one with more distinct values than a sketch counts
  // (it must switch to keeping values midway, and still give the exact quantiles).
  const rows = 20_000;
  const names = ['flag', 'count', 'constant', 'gaps', 'empty', 'continuous'];
  const rng = mulberry32(21);
  const X = new Float64Array(rows * names.length);
  for (let r = 0; r < rows; r++) {
    const row = [rng.int(2), rng.int(9), 3, r % 5 === 0 ? Number.NaN : rng.int(40) / 4, Number.NaN, rng.next() * 100];
    X.set(row, r * names.length);
  }

  it('when every row is added to a sketch in chunks, then its histograms equal referenceHistograms of the whole matrix, bit for bit', () => {
    const sketch = new ReferenceSketch(names);
    for (let r = 0; r < rows; r++) sketch.addRow(X, r);
    expect(sketch.histograms()).toEqual(referenceHistograms(names, X, rows));
    expect(sketch.histograms(4)).toEqual(referenceHistograms(names, X, rows, 4));
  });

  it('when only some rows are added (the training rows), then the histograms equal those of those rows by index', () => {
    const train = Int32Array.from({ length: rows }, (_, i) => i).filter((i) => i % 3 !== 1);
    const sketch = new ReferenceSketch(names);
    for (const r of train) sketch.addRow(X, r);
    expect(sketch.histograms()).toEqual(referenceHistograms(names, X, rows, 10, train));
  });
});
