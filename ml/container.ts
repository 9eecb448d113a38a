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
 * The container's bytes as parts, without copying the arrays: the header (magic, length, JSON,
 * padding to 8 bytes), then each array's bytes as a view of the array, followed by its zero padding.
 * Concatenated, they are exactly {@link writeContainer}'s buffer; a writer streams them one by one
 * (a million-row dataset matrix is not copied into a second buffer to be stored).
 */
export function containerParts(format: ContainerFormat, header: Record<string, unknown>, arrays: readonly (readonly [string, TypedArray])[]): Uint8Array[] {
  let offset = 0;
  const layout: LayoutEntry[] = arrays.map(([name, a]) => {
    const e = { name, type: typeNameOf(format, a), offset, length: a.length };
    offset += align8(a.byteLength);
    return e;
  });
  const json = Buffer.from(JSON.stringify({ ...header, [format.layoutKey]: layout }), 'utf8');
  const head = Buffer.alloc(align8(8 + json.length));
  head.write(format.magic, 0, 'latin1');
  head.writeUInt32LE(json.length, 4);
  json.copy(head, 8);
  const parts: Uint8Array[] = [head];
  for (const [, a] of arrays) {
    parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const pad = align8(a.byteLength) - a.byteLength;
    if (pad > 0) parts.push(new Uint8Array(pad));
  }
  return parts;
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
