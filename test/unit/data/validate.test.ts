import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../../data/mapping';
import { validateRawUser } from '../../../data/validate';
import { parseTimestamp } from '../../../data/timestamp';

const base = { user_id: 'a1', first_open: '2026-01-01 12:00:00', screen_list: 'home,cart' };

describe('validateRawUser', () => {
  it('when JSON input uses numbers and arrays, then it normalises like CSV text', () => {
    const res = validateRawUser({ user_id: 42, first_open: Date.UTC(2026, 0, 1), screen_list: [' home ', '', 'cart'], age: 30 });
    expect(res).toEqual({ ok: true, record: {
      userId: '42', firstOpen: Date.UTC(2026, 0, 1), screens: ['home', 'cart'], age: 30, numscreens: 2,
      purchaseDate: null, label: null, extra: {},
    } });
  });

  it('when purchase_date is null (present), then label is 0; when absent, null', () => {
    const withNull = validateRawUser({ ...base, purchase_date: null });
    const absent = validateRawUser(base);
    expect(withNull.ok && withNull.record.label).toBe(0);
    expect(absent.ok && absent.record.label).toBe(null);
  });

  it('when the purchase is exactly 24 h after first open, then label is 1, and 1 ms later 0', () => {
    const at = validateRawUser({ ...base, purchase_date: '2026-01-02 12:00:00' });
    const after = validateRawUser({ ...base, purchase_date: '2026-01-02 12:00:00.001' });
    expect(at.ok && at.record.label).toBe(1);
    expect(after.ok && after.record.label).toBe(0);
  });

  it('when several fields are bad, then every error is listed with field, rule and value', () => {
    const res = validateRawUser({ user_id: '', first_open: 'yesterday', screen_list: 5, age: '12.5', numscreens: '-1' });
    expect(res.ok).toBe(false);
    expect(!res.ok && res.errors.map((e) => [e.field, e.rule, e.value])).toEqual([
      ['user_id', 'missing-value', ''],
      ['first_open', 'bad-timestamp', 'yesterday'],
      ['screen_list', 'bad-screen-list', 5],
      ['age', 'bad-number', '12.5'],
      ['numscreens', 'negative-count', '-1'],
    ]);
  });

  it('when a declared binary pass-through is 2 or empty, then it is rejected; undeclared columns are ignored', () => {
    const mapping = parseMapping({ features: { minigame: 'binary', spend: 'numeric' } });
    const bad = validateRawUser({ ...base, minigame: '2', spend: '' }, mapping);
    const good = validateRawUser({ ...base, minigame: '1', spend: '-3.5e1', other: 'x' }, mapping);
    expect(!bad.ok && bad.errors.map((e) => [e.field, e.rule])).toEqual([['minigame', 'bad-number'], ['spend', 'missing-value']]);
    expect(good.ok && good.record.extra).toEqual({ minigame: 1, spend: -35 });
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2026-01-05 09:15:02.125', Date.UTC(2026, 0, 5, 9, 15, 2, 125)],
    ['2026-01-05T09:15:02Z', Date.UTC(2026, 0, 5, 9, 15, 2)],
    ['2026-01-05T09:15:02.123456+05:30', Date.UTC(2026, 0, 5, 3, 45, 2, 123)],
    ['2026-01-05', Date.UTC(2026, 0, 5)],
  ])('when given %s, then it is %d', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each(['2026-02-30 00:00:00', '2026-01-05 24:00:00', '05/01/2026', '2026-01-05T09:15:02+25:00', ''])(
    'when given %j, then it is null', (text) => {
      expect(parseTimestamp(text)).toBeNull();
    });

  it('when the format is sql, then ISO T-separated text is refused, and the reverse', () => {
    expect(parseTimestamp('2026-01-05T09:15:02', 'UTC', 'sql')).toBeNull();
    expect(parseTimestamp('2026-01-05 09:15:02', 'UTC', 'iso')).toBeNull();
  });

  it('when a wall time falls in the spring-forward gap, then it moves forward by the gap (Temporal "compatible")', () => {
    // 02:30 does not exist in Europe/Berlin on 2026-03-29; it reads as 03:30 CEST = 01:30Z.
    expect(parseTimestamp('2026-03-29 02:30:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(parseTimestamp('2026-03-29 01:30:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 0, 30));
  });
});

describe('parseMapping', () => {
  it('when given only a zone, then defaults fill the rest', () => {
    expect(parseMapping({ timezone: 'Asia/Tokyo' })).toEqual({ columns: {}, features: {}, timezone: 'Asia/Tokyo', timestampFormat: 'auto' });
  });

  it.each([
    [{ columns: { usr_id: 'user' } }, /columns\.usr_id: unknown canonical column.*"user"/],
    [{ timezone: 'Mars/Olympus' }, /timezone: not an IANA time zone.*"Mars\/Olympus"/],
    [{ features: { liked: 'boolean' } }, /features\.liked: .*"boolean"/],
    [{ colums: {} }, /colums: unknown key/],
    [{ columns: { purchase_date: 'enrolled_date' }, features: { enrolled_date: 'binary' } }, /features\.enrolled_date: .*never features/],
    [{ columns: { user_id: 'x', purchase_date: 'x' } }, /columns\.purchase_date: .*already mapped to user_id/],
  ])('when given %j, then MappingError names the key and value', (json, message) => {
    expect(() => parseMapping(json)).toThrow(message);
  });
});
