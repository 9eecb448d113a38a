import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../ml/rng';
import { permuteInPlace } from '../../../store/users';

/** The snapshot puts a million users' columns in id order in place; the result must be the gather `a[order[i]]`. */
describe('permuteInPlace', () => {
  const rng = mulberry32(7);
  const shuffle = (n: number) => {
    const o = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [o[i], o[j]] = [o[j]!, o[i]!];
    }
    return o;
  };

  it('when a random permutation (many cycles, fixed points included) is applied, then every column equals the gather, for items one or 32 wide', () => {
    for (const n of [0, 1, 2, 17, 1000]) {
      const order = shuffle(n);
      if (n > 3) {
        // a fixed point and a 2-cycle, whatever the shuffle gave
        const swap = (i: number, v: number) => { const j = order.indexOf(v); [order[i], order[j]] = [v, order[i]!]; };
        swap(0, 0);
        swap(1, 2);
        swap(2, 1);
      }
      const f = Float64Array.from({ length: n }, (_, i) => i * 1.5);
      const ids = Array.from({ length: n }, (_, i) => `u${i}`);
      const wide = Uint8Array.from({ length: n * 32 }, (_, i) => i % 251);
      const wantF = Array.from(order, (r) => f[r]);
      const wantIds = Array.from(order, (r) => ids[r]);
      const wantWide = Array.from(order, (r) => Array.from(wide.subarray(r * 32, r * 32 + 32))).flat();
      permuteInPlace(f, order);
      permuteInPlace(ids, order);
      permuteInPlace(wide, order, 32);
      expect(Array.from(f)).toEqual(wantF);
      expect(ids).toEqual(wantIds);
      expect(Array.from(wide)).toEqual(wantWide);
    }
  });

  it('when the order repeats an entry, then it is refused instead of looping forever', () => {
    expect(() => permuteInPlace(new Float64Array(3), Int32Array.from([1, 1, 0]))).toThrow('order is not a permutation of 0..2');
  });

  it('when the array is longer than the order (spare capacity), then only its first order.length items move', () => {
    const a = Int32Array.from([10, 11, 12, 99, 98]);
    permuteInPlace(a, Int32Array.from([2, 0, 1]));
    expect(Array.from(a)).toEqual([12, 10, 11, 99, 98]);
  });
});
