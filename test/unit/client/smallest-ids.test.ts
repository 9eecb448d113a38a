import { describe, expect, it } from 'vitest';
import { SmallestIds } from '../../../client/audiences';
import { seededRng } from '../../../ml/rng';

describe('SmallestIds (the tie cut of an audience export)', () => {
  it('keeps exactly the k smallest user ids of any stream, in ascending order (checked against a full sort)', () => {
    const rng = seededRng(7);
    for (const [n, k] of [[0, 3], [5, 0], [5, 5], [5, 9], [1000, 1], [1000, 37], [1000, 999]] as const) {
      const rows = Array.from({ length: n }, (_, i) => ({ userId: `u${Math.floor(rng.next() * 1e6)}-${i}` }));
      const heap = new SmallestIds<{ userId: string }>(k);
      for (const r of rows) heap.offer(r);
      const expected = rows.map((r) => r.userId).sort().slice(0, k);
      expect(heap.sorted().map((r) => r.userId)).toEqual(expected);
    }
  });
});
