import { describe, expect, it } from 'vitest';
import { packArrays, unpackArrays } from '../../../store/typed-pack';

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
});
