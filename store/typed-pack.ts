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
