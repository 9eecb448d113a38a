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

/** Writes `header` (without its layout) and the named arrays in the given order. */
export function writeContainer(format: ContainerFormat, header: Record<string, unknown>, arrays: readonly (readonly [string, TypedArray])[]): Buffer {
  let offset = 0;
  const layout: LayoutEntry[] = arrays.map(([name, a]) => {
    const e = { name, type: typeNameOf(format, a), offset, length: a.length };
    offset += align8(a.byteLength);
    return e;
  });
  const json = Buffer.from(JSON.stringify({ ...header, [format.layoutKey]: layout }), 'utf8');
  const dataStart = align8(8 + json.length);
  const buf = Buffer.alloc(dataStart + offset);
  buf.write(format.magic, 0, 'latin1');
  buf.writeUInt32LE(json.length, 4);
  json.copy(buf, 8);
  arrays.forEach(([, a], i) => {
    buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + layout[i]!.offset);
  });
  return buf;
}

/** Reads a container of `format`: its header (layout included) and its arrays, each in its own aligned copy. */
export function readContainer<H extends Record<string, unknown>>(format: ContainerFormat, buf: Buffer): { header: H; arrays: Record<string, TypedArray> } {
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
    // A fresh, aligned copy: GridFS and pooled Buffers may sit at an unaligned offset.
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(start, start + bytes));
    arrays[e.name] = new C(copy.buffer);
  }
  return { header, arrays };
}
