/**
 * Dense row-major matrix of float64 values.
 *
 * Missing values: NaN and ±Infinity are rejected by training (`assertFinite`), because the feature
 * pipeline imputes before the model sees a row. Scoring does not check (it is the hot path): a NaN
 * compares false against every split threshold and so follows the left branch; do not rely on that.
 */
export interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** Wrap a flat row-major array, checking its length. */
export function createMatrix(data: Float64Array, rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be a positive integer, got ${cols}`);
  if (data.length !== rows * cols) {
    throw new RangeError(`data length ${data.length} does not match rows*cols = ${rows}*${cols}`);
  }
  return { data, rows, cols };
}

/** Build a matrix from an array of equal-length rows. */
export function matrixFromRows(rows: ArrayLike<number>[]): Matrix {
  if (rows.length === 0) throw new RangeError('matrixFromRows needs at least one row');
  const cols = rows[0].length;
  const data = new Float64Array(rows.length * cols);
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].length !== cols) throw new RangeError(`row ${i} has ${rows[i].length} values, expected ${cols}`);
    for (let j = 0; j < cols; j++) data[i * cols + j] = rows[i][j];
  }
  return { data, rows: rows.length, cols };
}

/** Copy the given rows (by index) into a new matrix. */
export function selectRows(X: Matrix, indices: ArrayLike<number>): Matrix {
  const { cols } = X;
  const data = new Float64Array(indices.length * cols);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    data.set(X.data.subarray(r * cols, r * cols + cols), i * cols);
  }
  return { data, rows: indices.length, cols };
}

/**
 * Rows of a matrix named by index, read in place: `at[i]` is the row of X that stands at
 * position i (a fold, the training split). Fits and predictions take one instead of a copy of
 * those rows, which at a million users was the worker's largest allocation.
 */
export type RowIndex = Int32Array;

/** Throw a RangeError unless every entry of `at` is a row of X. */
export function assertRowIndex(X: Matrix, at: RowIndex): void {
  for (let i = 0; i < at.length; i++) {
    const r = at[i];
    if (!(r >= 0 && r < X.rows)) throw new RangeError(`row index ${i} is ${r}; X has ${X.rows} rows`);
  }
}

/** Column f of X at the rows `at` (every row when absent), into `out` (length: at.length or X.rows). */
export function gatherColumn(X: Matrix, f: number, out: Float64Array, at?: RowIndex): Float64Array {
  const { data, cols } = X;
  if (at) for (let r = 0; r < at.length; r++) out[r] = data[at[r] * cols + f];
  else for (let r = 0, k = f; r < X.rows; r++, k += cols) out[r] = data[k];
  return out;
}

/** Copy the given entries of a label vector. */
export function selectLabels(y: Uint8Array, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = y[indices[i]];
  return out;
}

/** Throw a RangeError naming the first non-finite cell (of the rows `at` when given). */
export function assertFinite(X: Matrix, at?: RowIndex): void {
  if (at) {
    const { data, cols } = X;
    for (let i = 0; i < at.length; i++) {
      for (let j = 0, k = at[i] * cols; j < cols; j++, k++) {
        if (!Number.isFinite(data[k])) throw new RangeError(`X[${at[i]}][${j}] is ${data[k]}; missing values must be imputed before fitting`);
      }
    }
    return;
  }
  const { data, cols } = X;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(`X[${Math.floor(i / cols)}][${i % cols}] is ${data[i]}; missing values must be imputed before fitting`);
    }
  }
}

/** Throw a RangeError unless X is a consistent matrix with `expectedCols` columns (when given). */
export function assertMatrix(X: Matrix, expectedCols?: number): void {
  if (!X || !(X.data instanceof Float64Array)) throw new RangeError('X.data must be a Float64Array');
  if (X.data.length !== X.rows * X.cols) {
    throw new RangeError(`X.data length ${X.data.length} does not match rows*cols = ${X.rows}*${X.cols}`);
  }
  if (expectedCols !== undefined && X.cols !== expectedCols) {
    throw new RangeError(`X has ${X.cols} columns, the model expects ${expectedCols}`);
  }
}

/** Throw a RangeError unless y is a 0/1 vector of length `n`. */
export function assertBinaryLabels(y: Uint8Array, n: number): void {
  if (!(y instanceof Uint8Array)) throw new RangeError('y must be a Uint8Array of 0/1 labels');
  if (y.length !== n) throw new RangeError(`y has length ${y.length}, expected ${n}`);
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 1) throw new RangeError(`y[${i}] is ${y[i]}; labels must be 0 or 1`);
  }
}
