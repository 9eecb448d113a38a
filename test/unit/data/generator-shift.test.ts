import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { readUserLogs } from '../../../data/csv-reader';
import { fitFeatureSpec, transformBatch } from '../../../data/features';
import { GENERATED_COLUMNS, generateUsers, type GenerateOptions, type GeneratedRow } from '../../../data/generator';
import type { UserRecord } from '../../../data/record';
import { driftReport, referenceHistograms } from '../../../ml/drift';

async function records(rows: GeneratedRow[]): Promise<UserRecord[]> {
  const text = [GENERATED_COLUMNS.join(','), ...rows.map((r) => r.row)].join('\n');
  const out: UserRecord[] = [];
  for await (const r of readUserLogs(Readable.from([text]), { fileName: 'gen.csv' })) {
    if (r.kind !== 'ok') throw new Error(`generated row rejected: ${JSON.stringify(r)}`);
    out.push(r.record);
  }
  return out;
}

const gen = (opts: Partial<GenerateOptions> & { users: number }) => Array.from(generateUsers(opts));
const rate = (rows: GeneratedRow[]) => rows.reduce((s, r) => s + r.label, 0) / rows.length;
/** Share of browsing screens whose name is in `names`. */
const share = (recs: UserRecord[], names: readonly string[]) => {
  let hit = 0, all = 0;
  for (const u of recs) for (const s of u.screens) { all++; if (names.includes(s)) hit++; }
  return hit / all;
};
const PROMO = ['deals', 'promo_banner', 'coupons', 'flash_sale', 'offer_details', 'referral'];
const CART = ['cart', 'add_to_cart', 'cart_edit', 'saved_for_later'];

describe('generator shifts (20k users, seed 9)', () => {
  const opts = { users: 20_000, seed: 9 };
  let normal: GeneratedRow[], behaviour: GeneratedRow[], conversion: GeneratedRow[];
  let normalRecs: UserRecord[], behaviourRecs: UserRecord[], conversionRecs: UserRecord[];
  beforeAll(async () => {
    normal = gen(opts);
    behaviour = gen({ ...opts, shift: 'behaviour' });
    conversion = gen({ ...opts, shift: 'conversion' });
    [normalRecs, behaviourRecs, conversionRecs] = await Promise.all([records(normal), records(behaviour), records(conversion)]);
  });

  it('when the shift is behaviour, then first opens, ages and visit lengths are the normal ones and only the screen mix moves', () => {
    // Same draws in the same order: what the shift does not touch is equal user by user.
    expect(behaviourRecs.map((u) => [u.userId, u.firstOpen, u.age, u.numscreens])).toEqual(normalRecs.map((u) => [u.userId, u.firstOpen, u.age, u.numscreens]));
    expect(share(behaviourRecs, PROMO)).toBeGreaterThan(2 * share(normalRecs, PROMO)); // promo base 6 → 18
    expect(share(behaviourRecs, CART)).toBeLessThan(0.8 * share(normalRecs, CART)); // cart base 6 → 4
  });

  it('when the shift is conversion, then every behaviour column is the normal one and a third fewer users buy', () => {
    const strip = (r: GeneratedRow) => { const [head, screens, tail] = r.row.split('"'); const c = tail.split(','); c[3] = ''; return `${head}"${screens}"${c.join(',')}`; };
    expect(conversion.map(strip)).toEqual(normal.map(strip));
    // Calibrated to 2/3 of the 0.2 base rate; binomial sd at 20k is 0.0024, the pilot adds a little: ±0.015.
    expect(Math.abs(rate(conversion) - 0.2 * (2 / 3))).toBeLessThan(0.015);
    expect(rate(normal) - rate(conversion)).toBeGreaterThan(0.05);
    // Only the intercept moved: the true probabilities keep their order.
    const order = (rows: GeneratedRow[]) => rows.map((r, i) => [r.pTrue, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    expect(order(conversion)).toEqual(order(normal));
  });

  it('when PSI is measured against a normal reference, then behaviour flags the screen groups it moved and conversion flags nothing', () => {
    const ref = normalRecs.slice(0, 5000);
    const spec = fitFeatureSpec(ref);
    const refs = referenceHistograms(spec.names, transformBatch(spec, ref), ref.length);
    // Other users than the reference's: a shifted sample vs. the same seed's tail.
    const drifting = (recs: UserRecord[]) => driftReport(refs, transformBatch(spec, recs.slice(10_000, 13_000)), 3000, spec.names)
      .filter((r) => r.level === 'drift').map((r) => r.feature);
    expect(drifting(behaviourRecs)).toEqual(expect.arrayContaining(['promo_count', 'support_count']));
    expect(drifting(conversionRecs)).toEqual([]);
    expect(drifting(normalRecs)).toEqual([]);
  });

  it('when shift is unknown or combined with drift, then RangeError names it', () => {
    expect(() => generateUsers({ users: 1, shift: 'prices' as never }).next()).toThrow(/shift must be one of behaviour, conversion, got "prices"/);
    expect(() => generateUsers({ users: 1, shift: 'behaviour', drift: true }).next()).toThrow(/shift and drift are mutually exclusive/);
  });

  it('when a row is generated, then it carries its first_open and eventual purchase time', () => {
    const r = normal.find((x) => x.label === 1)!;
    expect(r.purchaseAt! - r.firstOpen).toBeLessThanOrEqual(86_400_000);
    expect(r.row.split(',')[1]).toBe(new Date(r.firstOpen).toISOString().replace('T', ' ').slice(0, 23));
    expect(normal.filter((x) => x.purchaseAt === null).every((x) => x.label === 0)).toBe(true);
  });
});
