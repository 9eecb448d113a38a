import { CorruptArtifactError } from '../common/errors';

/**
 * The one binary container of retail24 (model envelopes, dataset matrices, out-of-fold
 * predictions, scoring jobs):
 *
 *   bytes 0-3  a 4-byte magic naming the format ("R24M" model envelope, "R24P" typed-array pack)
 *   bytes 4-7  header length H (uint32 LE)
 *   bytes 8..  JSON header: the format's own fields plus the array layout under `layoutKey`
 *              ([{ name, type, offset, length }], offsets from the data start)
 *   then, from the first 8-byte boundary after the header, each array's little-endian bytes,
 *   every array starting on an 8-byte boundary.
 *
 * A format fixes its magic, where the layout sits in the header and how it spells array types
 * (both formats predate this module; their bytes are unchanged). Reading checks the magic, the
 * header length, every array type and every array's extent, and throws CorruptArtifactError
 * naming what is wrong: a truncated or foreign blob never becomes a wrong model or matrix.
 */
export type TypedArray = Float64Array | Float32Array | Int32Array | Uint8Array | Uint32Array;
type Ctor = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Uint32ArrayConstructor;

export interface ContainerFormat {
  /** What a reader is told it was handed ("model envelope", "typed-array pack"). */
  what: string;
  magic: string;
  layoutKey: string;
  /** Type name in the header -> constructor. */
  types: Readonly<Record<string, Ctor>>;
}

export interface LayoutEntry {
  name: string;
  type: string;
  offset: number;
  length: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

function typeNameOf(format: ContainerFormat, a: TypedArray): string {
  for (const [name, C] of Object.entries(format.types)) if (a instanceof C) return name;
  throw new TypeError(`${format.what}: cannot store a ${a.constructor.name}`);
}

/**
 * An array written a chunk at a time (a snapshot's matrix, transformed in chunks and never held
 * whole): its type and length are declared up front, for the header; the chunks must add up to it.
 */
export interface StreamedArray {
  type: Ctor;
  length: number;
  chunks: Iterable<TypedArray>;
}

function isStreamed(a: TypedArray | StreamedArray): a is StreamedArray {
  return !ArrayBuffer.isView(a);
}

/**
 * The container's bytes, part by part, without copying the arrays: the header (magic, length,
 * JSON, padding to 8 bytes), then each array's bytes (a view of the array, or each chunk of a
 * streamed one as it is made), followed by its zero padding. Concatenated, they are exactly
 * {@link writeContainer}'s buffer; a writer streams them one by one.
 */
export function* containerStream(format: ContainerFormat, header: Record<string, unknown>, arrays: readonly (readonly [string, TypedArray | StreamedArray])[]): Generator<Uint8Array> {
  let offset = 0;
  const layout: LayoutEntry[] = arrays.map(([name, a]) => {
    const type = isStreamed(a) ? Object.entries(format.types).find(([, T]) => T === a.type)?.[0] : typeNameOf(format, a);
    if (!type) throw new TypeError(`${format.what}: cannot store a ${(a as StreamedArray).type.name}`);
    const e = { name, type, offset, length: a.length };
    offset += align8(a.length * format.types[type]!.BYTES_PER_ELEMENT);
    return e;
  });
  const json = Buffer.from(JSON.stringify({ ...header, [format.layoutKey]: layout }), 'utf8');
  const head = Buffer.alloc(align8(8 + json.length));
  head.write(format.magic, 0, 'latin1');
  head.writeUInt32LE(json.length, 4);
  json.copy(head, 8);
  yield head;
  for (const [i, [name, a]] of arrays.entries()) {
    const bytes = a.length * format.types[layout[i]!.type]!.BYTES_PER_ELEMENT;
    if (isStreamed(a)) {
      let written = 0;
      for (const c of a.chunks) {
        if (!(c instanceof a.type)) throw new TypeError(`${format.what}: a chunk of "${name}" is a ${c.constructor.name}, not a ${a.type.name}`);
        written += c.byteLength;
        if (written > bytes) throw new RangeError(`${format.what}: the chunks of "${name}" exceed its declared ${a.length} items`);
        yield new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
      }
      if (written !== bytes) throw new RangeError(`${format.what}: the chunks of "${name}" hold ${written} bytes, ${bytes} declared`);
    } else yield new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    if (align8(bytes) > bytes) yield new Uint8Array(align8(bytes) - bytes);
  }
}

/** {@link containerStream} of arrays in hand, as a list of parts (views of the arrays). */
export function containerParts(format: ContainerFormat, header: Record<string, unknown>, arrays: readonly (readonly [string, TypedArray])[]): Uint8Array[] {
  return [...containerStream(format, header, arrays)];
}

/** Writes `header` (without its layout) and the named arrays in the given order, as one buffer. */
export function writeContainer(format: ContainerFormat, header: Record<string, unknown>, arrays: readonly (readonly [string, TypedArray])[]): Buffer {
  return Buffer.concat(containerParts(format, header, arrays));
}

/**
 * Reads a container of `format`: its header (layout included) and its arrays, each in its own
 * aligned copy; with `views`, arrays that sit aligned in `buf` are views of it instead (the caller
 * owns `buf` and never writes to it: a dataset's matrix is then held once, not twice).
 */
export function readContainer<H extends Record<string, unknown>>(format: ContainerFormat, buf: Buffer, opts: { views?: boolean } = {}): { header: H; arrays: Record<string, TypedArray> } {
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== format.magic) throw new CorruptArtifactError(`not a retail24 ${format.what} (bad magic bytes)`);
  const headerLength = buf.readUInt32LE(4);
  if (8 + headerLength > buf.length) throw new CorruptArtifactError(`truncated ${format.what}: header length ${headerLength} exceeds ${buf.length} bytes`);
  let header: H;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as H;
  } catch (err) {
    throw new CorruptArtifactError(`${format.what}: header is not JSON (${(err as Error).message})`);
  }
  const layout = header[format.layoutKey];
  if (!Array.isArray(layout)) throw new CorruptArtifactError(`${format.what}: header has no array layout "${format.layoutKey}"`);
  const dataStart = align8(8 + headerLength);
  const arrays: Record<string, TypedArray> = {};
  for (const e of layout as LayoutEntry[]) {
    const C = Object.hasOwn(format.types, e.type) ? format.types[e.type] : undefined;
    if (!C) throw new CorruptArtifactError(`${format.what}: array "${e.name}" has unknown type "${e.type}"`);
    if (!Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.length) || e.offset < 0 || e.length < 0) throw new CorruptArtifactError(`${format.what}: array "${e.name}" has a bad extent (offset ${e.offset}, length ${e.length})`);
    const start = dataStart + e.offset;
    const bytes = e.length * C.BYTES_PER_ELEMENT;
    if (start + bytes > buf.length) throw new CorruptArtifactError(`truncated ${format.what}: array "${e.name}" runs past the end`);
    if (opts.views && (buf.byteOffset + start) % C.BYTES_PER_ELEMENT === 0) {
      arrays[e.name] = new C(buf.buffer as ArrayBuffer, buf.byteOffset + start, e.length);
      continue;
    }
    // A fresh, aligned copy: GridFS and pooled Buffers may sit at an unaligned offset.
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(start, start + bytes));
    arrays[e.name] = new C(copy.buffer);
  }
  return { header, arrays };
}
