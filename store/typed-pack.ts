import { CorruptArtifactError } from '../common/errors';
/**
 * A tiny binary container for named typed arrays: `R24P` magic, a JSON header, then each array
 * 8-byte aligned. Used for dataset matrices and out-of-fold predictions in GridFS.
 */
type Typed = Float64Array | Float32Array | Int32Array | Uint8Array | Uint32Array;
const CTORS = { Float64Array, Float32Array, Int32Array, Uint8Array, Uint32Array } as const;
type CtorName = keyof typeof CTORS;
const MAGIC = 0x50343252; // "R24P" little-endian

export function packArrays(arrays: Record<string, Typed>, meta: Record<string, unknown> = {}): Buffer {
  const entries = Object.entries(arrays);
  let offset = 0;
  const layout = entries.map(([name, arr]) => {
    const e = { name, type: arr.constructor.name as CtorName, length: arr.length, offset };
    offset += Math.ceil(arr.byteLength / 8) * 8;
    return e;
  });
  const header = Buffer.from(JSON.stringify({ meta, layout }), 'utf8');
  const headerLen = Math.ceil((8 + header.length) / 8) * 8;
  const out = Buffer.alloc(headerLen + offset);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(header.length, 4);
  header.copy(out, 8);
  entries.forEach(([, arr], i) => {
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), headerLen + layout[i]!.offset);
  });
  return out;
}

export function unpackArrays(buf: Buffer): { meta: Record<string, unknown>; arrays: Record<string, Typed> } {
  if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) throw new CorruptArtifactError('not a retail24 typed-array pack (bad magic)');
  const hlen = buf.readUInt32LE(4);
  const { meta, layout } = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8')) as {
    meta: Record<string, unknown>;
    layout: { name: string; type: CtorName; length: number; offset: number }[];
  };
  const headerLen = Math.ceil((8 + hlen) / 8) * 8;
  // Copy into a fresh aligned ArrayBuffer: GridFS buffers are not guaranteed 8-byte aligned.
  const body = new ArrayBuffer(buf.length - headerLen);
  new Uint8Array(body).set(buf.subarray(headerLen));
  const arrays: Record<string, Typed> = {};
  for (const e of layout) {
    const C = CTORS[e.type];
    if (!C) throw new CorruptArtifactError(`typed-array pack: unknown array type ${e.type}`);
    arrays[e.name] = new C(body, e.offset, e.length);
  }
  return { meta, arrays };
}
