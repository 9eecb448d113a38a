import { CorruptArtifactError } from '../common/errors';
import { containerParts, containerStream, readContainer, writeContainer, type ContainerFormat, type StreamedArray, type TypedArray } from '../ml/container';

/**
 * Named typed arrays plus a small JSON `meta`, in the one binary container (ml/container.ts)
 * under the `R24P` magic. Used for dataset matrices, out-of-fold predictions and scoring jobs in
 * GridFS and the store.
 */
type Typed = TypedArray;

const PACK: ContainerFormat = {
  what: 'typed-array pack',
  magic: 'R24P',
  layoutKey: 'layout',
  types: { Float64Array, Float32Array, Int32Array, Uint8Array, Uint32Array },
};

export function packArrays(arrays: Record<string, Typed>, meta: Record<string, unknown> = {}): Buffer {
  return writeContainer(PACK, { meta }, Object.entries(arrays));
}

/** {@link packArrays}' bytes as parts that share the arrays' memory (for a streamed write: putBlob takes parts). */
export function packParts(arrays: Record<string, Typed>, meta: Record<string, unknown> = {}): Uint8Array[] {
  return containerParts(PACK, { meta }, Object.entries(arrays));
}

/** {@link packArrays}' bytes made as they are written: arrays in hand or streamed a chunk at a time (putBlob takes the generator's maker). */
export function packStream(arrays: Record<string, Typed | StreamedArray>, meta: Record<string, unknown> = {}): Generator<Uint8Array> {
  return containerStream(PACK, { meta }, Object.entries(arrays));
}

/** With `views`, aligned arrays are views of `buf` (see readContainer): the caller keeps `buf` unchanged. */
export function unpackArrays(buf: Buffer, opts: { views?: boolean } = {}): { meta: Record<string, unknown>; arrays: Record<string, Typed> } {
  const { header, arrays } = readContainer<{ meta: Record<string, unknown> }>(PACK, buf, opts);
  return { meta: header.meta ?? {}, arrays };
}

/**
 * A row-major matrix as one array per column, each in the smallest type that holds every value of
 * that column exactly: Uint8 for integers 0..255, Int32 for other 32-bit integers, Float64 for the
 * rest (-0 and NaN included). A scoring job's vectors are mostly screen counts: 2,000 users of 52
 * features take ~0.2 MB instead of 0.8, which FerretDB writes and reads back as JSON text.
 * {@link unpackColumns} gives back the same Float64 values, bit for bit.
 */
export function packColumns(X: Float64Array, rows: number, cols: number): Record<string, Typed> {
  if (X.length !== rows * cols) throw new RangeError(`matrix has ${X.length} values, ${rows} x ${cols} expected`);
  const out: Record<string, Typed> = {};
  const col = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    let u8 = true;
    let i32 = true;
    for (let r = 0, k = j; r < rows; r++, k += cols) {
      const v = X[k]!;
      col[r] = v;
      if (!Number.isInteger(v) || Object.is(v, -0)) u8 = i32 = false;
      else if (v < 0 || v > 255) {
        u8 = false;
        if (v < -2147483648 || v > 2147483647) i32 = false;
      }
    }
    out[`c${j}`] = u8 ? Uint8Array.from(col) : i32 ? Int32Array.from(col) : col.slice();
  }
  return out;
}

/** The row-major Float64 matrix of {@link packColumns}' arrays. */
export function unpackColumns(arrays: Record<string, Typed>, rows: number, cols: number): Float64Array {
  const X = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const c = arrays[`c${j}`];
    if (!c || c.length !== rows) throw new CorruptArtifactError(`column ${j} of a packed matrix is ${c ? `${c.length} long, ${rows} expected` : 'missing'}`);
    for (let r = 0, k = j; r < rows; r++, k += cols) X[k] = c[r]!;
  }
  return X;
}
