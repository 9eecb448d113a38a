import { describe, expect, it } from 'vitest';
import { assertSpec, fitFeatureSpec, transform, transformBatch } from '../../../data/features';
import type { UserRecord } from '../../../data/record';

const user = (over: Partial<UserRecord>): UserRecord => ({
  userId: 'u', firstOpen: Date.UTC(2026, 0, 3, 23, 30), screens: [], age: 30, numscreens: 0,
  purchaseDate: null, label: 0, extra: {}, ...over,
});

const snapshot: UserRecord[] = [
  user({ userId: '1', screens: ['home', 'cart', 'home', 'checkout_payment'], numscreens: 4, age: 20, extra: { minigame: 1 } }),
  user({ userId: '2', screens: ['home', 'product_view', 'product_Search'], numscreens: 3, age: null, extra: { minigame: 0 } }),
  user({ userId: '3', screens: ['deals', 'help_center', 'home'], numscreens: 3, age: 40, extra: { minigame: 1, liked: 1 } }),
];

describe('fitFeatureSpec', () => {
  it('when fitted with topK 2, then the two most frequent screens get columns and the rest count as other', () => {
    const spec = fitFeatureSpec(snapshot, { topK: 2 });
    expect(spec.topScreens).toEqual(['home', 'cart']); // home 4×; the 1× ties break by name
    expect(spec.ageFill).toBe(30);
    expect(spec.passThrough).toEqual(['minigame']); // liked is not in every user
    expect(Object.isFrozen(spec) && Object.isFrozen(spec.names)).toBe(true);
  });

  it('when a user is transformed, then each feature has its documented value', () => {
    const spec = fitFeatureSpec(snapshot, { topK: 2 });
    const v = transform(spec, snapshot[0]);
    const f = Object.fromEntries(spec.names.map((n, i) => [n, v[i]]));
    // 2026-01-03 23:30Z is a Saturday.
    expect(f).toMatchObject({ hour_of_day: 23, day_of_week: 6, is_weekend: 1, age: 20, numscreens: 4,
      cart_count: 2, shopping_count: 0, 'screen:home': 2, 'screen:cart': 1, other_screens: 1, minigame: 1 });
    expect(f.purchase_intent).toBe(2 * spec.intentWeights.cart);
    const u2 = Object.fromEntries(spec.names.map((n, i) => [n, transform(spec, snapshot[1])[i]]));
    expect(u2).toMatchObject({ age: 30, shopping_count: 2 }); // null age takes the median
    const upper = transform(spec, user({ screens: ['CART_Edit'] }));
    expect(upper[spec.names.indexOf('cart_count')]).toBe(1); // patterns match regardless of case
  });

  it('when the spec has a zone, then local hour and weekday follow it', () => {
    const spec = fitFeatureSpec(snapshot, { timezone: 'Asia/Tokyo' });
    const v = transform(spec, snapshot[0]); // 23:30Z Saturday = 08:30 Sunday in Tokyo
    expect([v[0], v[1], v[2]]).toEqual([8, 0, 1]);
  });

  it('when label is tied to user id and purchase time, then no feature carries them and changing them changes nothing', () => {
    const leaky = Array.from({ length: 50 }, (_, i) => user({
      userId: i % 2 ? `buyer-${i}` : `${i}`, label: (i % 2) as 0 | 1, purchaseDate: i % 2 ? Date.UTC(2026, 0, 4) : null,
      screens: ['home'], numscreens: 1,
    }));
    const spec = fitFeatureSpec(leaky);
    expect(spec.names.some((n) => /user|label|purchase_date|purchased/i.test(n))).toBe(false);
    const a = transform(spec, leaky[1]);
    const b = transform(spec, { ...leaky[1], userId: 'other', label: 0, purchaseDate: null });
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('when a pass-through name collides with a built-in feature, then fitting throws naming it', () => {
    expect(() => fitFeatureSpec(snapshot, { passThrough: ['age'] })).toThrow(/"age" would appear twice/);
    expect(() => fitFeatureSpec(snapshot, { topK: -1 })).toThrow(RangeError);
  });
});

describe('transformBatch', () => {
  it('when a batch is built, then each row equals transform of that user', () => {
    const spec = fitFeatureSpec(snapshot, { topK: 3 });
    const X = transformBatch(spec, snapshot);
    const w = spec.names.length;
    expect(X.length).toBe(snapshot.length * w);
    snapshot.forEach((u, i) => expect(Array.from(X.subarray(i * w, (i + 1) * w))).toEqual(Array.from(transform(spec, u))));
  });

  it('when an out buffer is dirty, then it is fully overwritten', () => {
    const spec = fitFeatureSpec(snapshot);
    const out = new Float64Array(snapshot.length * spec.names.length).fill(99);
    expect(Array.from(transformBatch(spec, snapshot, out))).toEqual(Array.from(transformBatch(spec, snapshot)));
  });
});

describe('assertSpec', () => {
  it('when a spec survives JSON, then it is accepted', () => {
    const spec = fitFeatureSpec(snapshot);
    expect(assertSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  it.each([
    [{ kind: 'other', version: 1 }, /got kind "other" version 1/],
    [{ kind: 'retail24.feature-spec', version: 2 }, /version 2/],
    [null, /got kind undefined/],
  ])('when given %j, then it refuses with what it found', (x, message) => {
    expect(() => assertSpec(x)).toThrow(message);
  });

  it('when names were edited, then it refuses', () => {
    const spec = JSON.parse(JSON.stringify(fitFeatureSpec(snapshot)));
    spec.names.reverse();
    expect(() => assertSpec(spec)).toThrow(/names do not match/);
  });
});
