import { describe, expect, it } from 'vitest';
import { compareIds } from '../../../store/users';

describe('compareIds (the order snapshots put users in)', () => {
  // MongoDB orders string _ids by their UTF-8 bytes; JS `<` compares UTF-16 units, which puts an
  // emoji (a surrogate pair) before U+FF21, while UTF-8 puts it after.
  it('when ids mix ASCII, BMP characters above U+E000 and characters outside the BMP, then the order is that of their UTF-8 bytes', () => {
    const ids = ['u1', 'u10', 'u2', 'U1', '', 'ｕ1', '\u{1F600}', '\u{1F600}a', 'é', '\uE000', 'u\u{10000}', 'u\uFFFF', 'ü', 'a'];
    const byBytes = ids.slice().sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    expect(ids.slice().sort(compareIds)).toEqual(byBytes);
    expect(ids.slice().sort()).not.toEqual(byBytes); // the naive order differs on these ids
  });

  it('when two ids are equal or one is a prefix of the other, then equal is 0 and the prefix comes first', () => {
    expect(compareIds('abc', 'abc')).toBe(0);
    expect(compareIds('ab', 'abc')).toBeLessThan(0);
    expect(compareIds('abd', 'abc')).toBeGreaterThan(0);
  });
});
