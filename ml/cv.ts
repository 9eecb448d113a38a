/**
 * Stratified k-fold assignment for the grid search.
 */
import { mulberry32, shuffleInPlace } from './rng';

/**
 * Fold index (0..k-1) per row. Each class is shuffled with the seed and dealt round-robin, the
 * positives continuing where the negatives stopped, so every fold gets floor or ceil of n_c / k rows
 * of each class and the fold sizes differ by at most one. Deterministic for (y, k, seed).
 * @param k @default 3
 * @param seed @default 42
 */
export function stratifiedKFold(y: Uint8Array, k = 3, seed = 42): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`k must be an integer >= 2, got ${k}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const byClass: number[][] = [[], []];
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 1) throw new RangeError(`y[${i}] is ${y[i]}; labels must be 0 or 1`);
    byClass[y[i]].push(i);
  }
  for (const c of [0, 1]) {
    // every fold must see both classes or its ROC AUC and recall are undefined
    if (byClass[c].length < k) throw new RangeError(`class ${c} has ${byClass[c].length} rows, fewer than k = ${k} folds`);
  }
  const rng = mulberry32(seed);
  const folds = new Int32Array(y.length);
  let slot = 0;
  for (const c of [0, 1]) {
    const rows = byClass[c];
    shuffleInPlace(rows, rng);
    for (const r of rows) folds[r] = slot++ % k;
  }
  return folds;
}

/** Row indices of the training and test parts for one fold. */
export function foldIndices(folds: Int32Array, foldIndex: number): { train: Int32Array; test: Int32Array } {
  let nTest = 0;
  for (let i = 0; i < folds.length; i++) if (folds[i] === foldIndex) nTest++;
  if (nTest === 0 || nTest === folds.length) throw new RangeError(`fold ${foldIndex} leaves an empty training or test part`);
  const train = new Int32Array(folds.length - nTest);
  const test = new Int32Array(nTest);
  for (let i = 0, a = 0, b = 0; i < folds.length; i++) {
    if (folds[i] === foldIndex) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}
