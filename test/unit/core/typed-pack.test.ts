import { describe, expect, it } from 'vitest';
import { packArrays, packColumns, packParts, unpackArrays, unpackColumns } from '../../../store/typed-pack';
import { CorruptArtifactError } from '../../../common/errors';
import { deserializeModel } from '../../../ml/serialize';

describe('typed-array pack', () => {
  it('when arrays of mixed types are packed, then unpacking returns identical values and meta', () => {
    const X = Float64Array.from([1.5, -2, Number.NaN, 1e300]);
    const y = Uint8Array.from([1, 0, 1]);
    const idx = Int32Array.from([7, -1]);
    const { arrays, meta } = unpackArrays(packArrays({ X, y, idx }, { ids: ['a', 'b'] }));
    expect(Array.from(arrays.X!)).toEqual(Array.from(X));
    expect(arrays.y).toBeInstanceOf(Uint8Array);
    expect(Array.from(arrays.y!)).toEqual([1, 0, 1]);
    expect(Array.from(arrays.idx!)).toEqual([7, -1]);
    expect(meta).toEqual({ ids: ['a', 'b'] });
  });

  it('when the buffer is not a pack, then unpacking refuses it', () => {
    expect(() => unpackArrays(Buffer.from('hello world'))).toThrow(/bad magic/);
  });

  // Before the one container (ml/container.ts), a pack cut short inside its data unpacked without
  // complaint: the typed-array view threw a RangeError, or a short last array read past nothing.
  it('when a pack is cut short, then unpacking names the array that runs past the end', () => {
    const full = packArrays({ a: new Float64Array(10), b: new Int32Array(10) });
    const cut = full.subarray(0, full.length - 8);
    expect(() => unpackArrays(cut)).toThrow(CorruptArtifactError);
    expect(() => unpackArrays(cut)).toThrow(/typed-array pack: array "b" runs past the end/);
  });

  it('when a pack is handed to the model loader (or the other way round), then each refuses the other format', () => {
    const pack = packArrays({ a: new Float64Array(2) });
    expect(() => deserializeModel(pack)).toThrow(/not a retail24 model envelope \(bad magic bytes\)/);
  });

  it('when the header is damaged, then the error says so instead of a JSON SyntaxError', () => {
    const pack = Buffer.from(packArrays({ a: new Float64Array(2) }));
    pack.write('}', 9, 'latin1');
    expect(() => unpackArrays(pack)).toThrow(/typed-array pack: header is not JSON/);
  });

  // A dataset's matrix is streamed to GridFS as parts that share the arrays' memory: the stored
  // bytes (and so the checksum) must be those of the one-buffer pack, padding included.
  it('when a pack is written as parts, then their concatenation is the one-buffer pack byte for byte, and the array parts are the arrays themselves', () => {
    const X = Float64Array.from({ length: 7 }, (_, i) => i / 3);
    const y = Uint8Array.from([1, 0, 1, 1, 0]); // 5 bytes: 3 bytes of padding follow
    const idx = Int32Array.from([4, 2, 9]);
    const parts = packParts({ X, y, idx }, { ids: ['a'] });
    expect(Buffer.concat(parts).equals(packArrays({ X, y, idx }, { ids: ['a'] }))).toBe(true);
    expect(parts.some((p) => p.buffer === X.buffer)).toBe(true);
  });

  // With views, a loaded matrix is not a second copy of the blob it was read from; an array that
  // sits unaligned in the buffer (a pooled Buffer) is still copied, never read misaligned.
  it('when a pack is unpacked with views, then aligned arrays share the buffer, unaligned ones are copies, and the values are the same', () => {
    const X = Float64Array.from([1.5, -2, 3.25]);
    const y = Uint8Array.from([1, 0, 1]);
    const packed = packArrays({ X, y });
    const own = Buffer.alloc(packed.length);
    packed.copy(own);
    const viewed = unpackArrays(own, { views: true }).arrays;
    expect(viewed.X!.buffer).toBe(own.buffer);
    expect(Array.from(viewed.X!)).toEqual(Array.from(X));
    expect(Array.from(viewed.y!)).toEqual([1, 0, 1]);
    const shifted = Buffer.alloc(packed.length + 4);
    packed.copy(shifted, 4);
    const odd = shifted.subarray(4);
    const copied = unpackArrays(odd, { views: true }).arrays;
    expect(copied.X!.buffer).not.toBe(odd.buffer);
    expect(Array.from(copied.X!)).toEqual(Array.from(X));
    expect(unpackArrays(own).arrays.X!.buffer).not.toBe(own.buffer); // the default stays a copy
  });
});

describe('packColumns', () => {
  // A scoring job's vectors travel through FerretDB as text: small integer columns go as bytes.
  // The scores must not change, so the matrix must come back bit for bit, whatever it holds.
  it('when a matrix of counts, large integers, fractions, -0 and NaN is packed by column, then it unpacks to the same bits, each column in its smallest exact type', () => {
    const rows = 5;
    const cols = 6;
    const X = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) X.set([r, r * 60, 0 - r * 1000, r / 3, r === 2 ? -0 : r, r === 4 ? Number.NaN : 2 ** 40 + r], r * cols);
    const arrays = packColumns(X, rows, cols);
    expect(Object.values(arrays).map((a) => a.constructor.name)).toEqual(['Uint8Array', 'Uint8Array', 'Int32Array', 'Float64Array', 'Float64Array', 'Float64Array']);
    const back = unpackColumns(unpackArrays(packArrays(arrays)).arrays, rows, cols);
    expect(Buffer.from(back.buffer).equals(Buffer.from(X.buffer))).toBe(true);
    expect(() => unpackColumns({ ...arrays, c3: new Float64Array(4) }, rows, cols)).toThrow('column 3 of a packed matrix is 4 long, 5 expected');
  });
});
