import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GENERATED_COLUMNS, generateToFiles, generateUsers, latestFirstOpen, resolveAsOf, type GenerateOptions, type GeneratedRow,
} from '../../../data/generator';
import { makeContext } from '../../../data/generator-model';
import { parseTimestamp } from '../../../data/timestamp';

const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Parsed {
  userId: string;
  firstOpen: number;
  /** purchase_date cell, null when empty */
  purchase: number | null;
  row: GeneratedRow;
}

/** Splits a generated row around the quoted screen_list: `id,first_open,"…",age,numscreens,purchase_date,minigame,liked`. */
function parse(row: GeneratedRow): Parsed {
  const [head, , tail] = row.row.split('"');
  const [userId, firstOpenText] = head.split(',');
  const purchaseText = tail.split(',')[3];
  const ts = (s: string) => {
    const t = parseTimestamp(s);
    if (t === null) throw new Error(`bad timestamp ${s} in ${row.row}`);
    return t;
  };
  return { userId, firstOpen: ts(firstOpenText), purchase: purchaseText === '' ? null : ts(purchaseText), row };
}

/** The label a pipeline would derive from the export alone: a purchase visible and within 24 h of first_open. */
const observedLabel = (p: Parsed): 0 | 1 => (p.purchase !== null && p.purchase - p.firstOpen <= DAY ? 1 : 0);

function parsedUsers(opts: Partial<GenerateOptions> & { users: number }): Parsed[] {
  return Array.from(generateUsers(opts), parse);
}

describe('generateUsers without a cut-off', () => {
  // SHA-256 over `row|userId|label|pTrue` lines, captured from the generator before asOf/cutoffHours
  // existed (commit HEAD at the time). Any change to the draw order or the formatting breaks these.
  const before: [string, Partial<GenerateOptions> & { users: number }, string][] = [
    ['seed 1', { users: 3000, seed: 1 }, 'e0073446a31b93b87690f74bab23bda3dc903ccdd34246dd5384015b01151e63'],
    ['seed 7', { users: 3000, seed: 7 }, 'f253d96bf00398c5c4320cb9cc299e6c93c30fc2fb84de4b30456f9dd0ddea09'],
    ['seed 42, 20k', { users: 20_000, seed: 42 }, 'f7dfa2dad04cf9a7aec11c1b851b1cd3bf31f045749eed4118bab273a39d3d85'],
    ['seed 2, drift', { users: 2000, seed: 2, drift: true }, 'ccea82b91a3ea7dc8ae07c28f86b7ce0af1baa2382fc0d742a5282855b5def3d'],
    ['seed 3, other options', { users: 2000, seed: 3, baseRate: 0.5, start: '2025-03-28', days: 5, firstId: 0 },
      '0cd37f0e30612d55af73aa466b73a297fc5d2db76b32ba0c1e308af155fb1721'],
  ];
  const digest = (rows: Iterable<GeneratedRow>) => {
    const h = createHash('sha256');
    for (const r of rows) h.update(`${r.row}|${r.userId}|${r.label}|${r.pTrue}\n`);
    return h.digest('hex');
  };

  it.each(before)('when no cut-off is given (%s), then the rows are byte-identical to the generator before cut-offs existed', (_, opts, sha) => {
    const rows = Array.from(generateUsers(opts));
    expect(digest(rows)).toBe(sha);
    expect(rows.every((r) => r.pending === 0)).toBe(true);
    expect(digest(generateUsers({ ...opts, asOf: undefined, cutoffHours: undefined }))).toBe(sha);
  });

  it('when asOf is after every purchase, then the rows equal the uncut ones and nobody is pending', () => {
    const opts = { users: 3000, seed: 1 };
    const uncut = Array.from(generateUsers(opts), (r) => r.row);
    // Late purchases are 24 h + Exponential(72 h) after a January 2026 first_open: 2100 is beyond any of them.
    const late = Array.from(generateUsers({ ...opts, asOf: Date.UTC(2100, 0, 1) }));
    expect(late.map((r) => r.row)).toEqual(uncut);
    expect(late.every((r) => r.pending === 0)).toBe(true);
  });
});

describe('generateUsers with cutoffHours 0 (20k users, seed 42)', () => {
  const opts = { users: 20_000, seed: 42 };
  let asOf: number;
  let cut: Parsed[];
  let uncut: Map<string, Parsed>;
  beforeAll(() => {
    asOf = resolveAsOf({ ...opts, cutoffHours: 0 })!;
    cut = parsedUsers({ ...opts, cutoffHours: 0 });
    uncut = new Map(parsedUsers(opts).map((p) => [p.userId, p]));
  });

  it('when cutoffHours is 0, then asOf is the latest first_open of the uncut data and every user is exported', () => {
    const latest = Math.max(...Array.from(uncut.values(), (p) => p.firstOpen));
    expect(latestFirstOpen(opts)).toBe(latest);
    expect(asOf).toBe(latest);
    expect(resolveAsOf({ ...opts, cutoffHours: 36 })).toBe(latest + 36 * HOUR);
    expect(resolveAsOf(opts)).toBeNull();
    expect(cut).toHaveLength(opts.users); // first_open <= its own maximum
  });

  it('when the export is cut, then no first_open and no purchase in it is after asOf', () => {
    expect(cut.filter((p) => p.firstOpen > asOf)).toEqual([]);
    expect(cut.filter((p) => p.purchase !== null && p.purchase > asOf)).toEqual([]);
  });

  it('when a purchase is after asOf, then only its cell is emptied and every other byte equals the uncut row', () => {
    let blanked = 0;
    for (const p of cut) {
      const u = uncut.get(p.userId)!;
      expect(p.row.pTrue).toBe(u.row.pTrue);
      expect(p.row.label).toBe(u.row.label);
      if (u.purchase !== null && u.purchase > asOf) {
        blanked++;
        const [head, screens, tail] = u.row.row.split('"');
        const cells = tail.split(',');
        cells[3] = '';
        expect(p.row.row).toBe(`${head}"${screens}"${cells.join(',')}`);
      } else {
        expect(p.row.row).toBe(u.row.row);
      }
    }
    expect(blanked).toBeGreaterThan(0); // late buyers (24 h + 72 h mean) of the last days always buy after asOf
  });

  it('when a user is pending, then its purchase cell is empty and its first_open is within 24 h before asOf', () => {
    const pending = cut.filter((p) => p.row.pending === 1);
    expect(pending.length).toBeGreaterThan(0);
    for (const p of pending) {
      expect(p.purchase).toBeNull();
      expect(p.firstOpen).toBeGreaterThan(asOf - DAY);
    }
    // and conversely every user without a purchase inside its open window is pending
    const shouldPend = cut.filter((p) => p.purchase === null && asOf - p.firstOpen < DAY).map((p) => p.userId);
    expect(pending.map((p) => p.userId)).toEqual(shouldPend);
  });

  it('when a user is not pending, then the label observed in the export equals its eventual label', () => {
    // The point of `pending`: whoever a pipeline would wrongly call a non-buyer is flagged.
    const wrong = cut.filter((p) => observedLabel(p) !== p.row.label);
    expect(wrong.length).toBeGreaterThan(0);
    expect(wrong.every((p) => p.row.pending === 1 && p.row.label === 1 && observedLabel(p) === 0)).toBe(true);
  });

  it('when the window shares are measured, then they follow the day and hour rhythm of first opens', () => {
    // Expected share of users with first_open in (asOf − 24 h, asOf] and, for eventual buyers among them, of
    // those whose delay (Exponential, mean 2 h, truncated to 24 h: data/GENERATOR.md) is longer than
    // asOf − first_open. Day and hour weights come from the model's own tables; within an hour first
    // opens are uniform, so both integrals are closed-form per hour.
    const startMs = Date.parse('2026-01-01T00:00:00Z');
    const ctx = makeContext(false, startMs, 30);
    const weights = (cum: Float64Array) => Array.from(cum, (c, i) => (c - (i > 0 ? cum[i - 1] : 0)) / cum[cum.length - 1]);
    const dayP = weights(ctx.dayCum), hourP = weights(ctx.hourCum);
    const tau = 2 * HOUR, tail = Math.exp(-24 * HOUR / tau), cap = 1 - tail;
    let inWindow = 0, stillWaiting = 0;
    for (let d = 0; d < dayP.length; d++) {
      for (let h = 0; h < 24; h++) {
        const t0 = startMs + d * DAY + h * HOUR;
        const lo = Math.max(t0, asOf - DAY), hi = Math.min(t0 + HOUR, asOf);
        if (hi <= lo) continue;
        const p = (dayP[d] * hourP[h]) / HOUR;
        inWindow += p * (hi - lo);
        // ∫ P(delay > asOf − t) dt over [lo, hi]
        stillWaiting += (p * (tau * (Math.exp(-(asOf - hi) / tau) - Math.exp(-(asOf - lo) / tau)) - tail * (hi - lo))) / cap;
      }
    }
    const expectedWaitingShare = stillWaiting / inWindow;

    const n = cut.length;
    const windowUsers = cut.filter((p) => asOf - p.firstOpen < DAY);
    const share = windowUsers.length / n;
    // Binomial: 4 sd at n = 20k, p ≈ 0.039 is ±0.0055.
    expect(Math.abs(share - inWindow)).toBeLessThan(4 * Math.sqrt((inWindow * (1 - inWindow)) / n));
    const pending = cut.filter((p) => p.row.pending === 1);
    expect(pending.length).toBeLessThanOrEqual(windowUsers.length);

    const windowBuyers = windowUsers.filter((p) => p.row.label === 1);
    const pendingBuyers = windowBuyers.filter((p) => p.row.pending === 1);
    // ~150 eventual buyers in the window, ~11 % of them still waiting: 4 binomial sd ≈ ±0.10. The
    // rhythm ignores that night opens (23–04 h, the latest ones) convert less, which pulls the
    // measured share a little lower; the band covers it, and > 0 holds with overwhelming odds.
    expect(pendingBuyers.length).toBeGreaterThan(0);
    const m = windowBuyers.length;
    expect(Math.abs(pendingBuyers.length / m - expectedWaitingShare))
      .toBeLessThan(4 * Math.sqrt((expectedWaitingShare * (1 - expectedWaitingShare)) / m));
  });
});

describe('a later cut-off', () => {
  const opts = { users: 20_000, seed: 42 };

  // Mid-period asOf with asOf2 = asOf1 + 24 h exactly (the boundary), and the end-of-data cut with +48 h.
  const cases: [string, (p: typeof opts) => number, number][] = [
    ['mid-period, +24 h', () => Date.parse('2026-01-12T18:30:00Z'), 24],
    ['cutoffHours 0, +48 h', (p) => resolveAsOf({ ...p, cutoffHours: 0 })!, 48],
  ];

  it.each(cases)('when asOf2 >= asOf1 + 24 h (%s), then every user pending at asOf1 has matured and shows its eventual label', (_, at, plus) => {
    const asOf1 = at(opts);
    const asOf2 = asOf1 + plus * HOUR;
    const first = parsedUsers({ ...opts, asOf: asOf1 });
    const second = new Map(parsedUsers({ ...opts, asOf: asOf2 }).map((p) => [p.userId, p]));
    const eventual = new Map(Array.from(generateUsers(opts), (r) => [r.userId, r.label]));
    const pending1 = first.filter((p) => p.row.pending === 1);
    expect(pending1.length).toBeGreaterThan(0);
    for (const p of pending1) {
      const later = second.get(p.userId)!;
      expect(later).toBeDefined();
      expect(later.row.pending).toBe(0);
      expect(observedLabel(later)).toBe(later.row.label);
      expect(later.row.label).toBe(eventual.get(p.userId));
    }
    // some of them were eventual buyers, so the later export really turns hidden positives visible
    expect(pending1.some((p) => p.row.label === 1)).toBe(true);
  });
});

describe('generateToFiles with a cut-off', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retail24-gen-cut-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const readTruth = (file: string) => {
    const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
    return { header, rows: lines.map((l) => { const [id, p, label, pending] = l.split(','); return { id, p, label: Number(label), pending: Number(pending) }; }) };
  };

  it('when files are written without a cut-off, then the CSV equals the bundled sample byte for byte and pending is all 0', async () => {
    const out = join(dir, 'sample.csv');
    const s = await generateToFiles({ users: 5000, seed: 42, out });
    // sample/users.csv was written by `retail24 generate --users 5000 --seed 42` before cut-offs existed.
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe('42be05524772cd288cb92685c4de7e59251e16d19302000e586b2d1e79e8e656');
    const truth = readTruth(s.truthFile);
    expect(truth.header).toBe('user_id,p_true,label,pending');
    expect(truth.rows.every((r) => r.pending === 0)).toBe(true);
    expect(s).toMatchObject({ users: 5000, asOf: null, pending: 0 });
  });

  it('when cutoffHours is 0, then the truth file keeps the eventual label and p_true of the uncut export', async () => {
    const opts = { users: 20_000, seed: 42 };
    const [cutSum, fullSum] = await Promise.all([
      generateToFiles({ ...opts, cutoffHours: 0, out: join(dir, 'cut.csv') }),
      generateToFiles({ ...opts, out: join(dir, 'full.csv') }),
    ]);
    const cut = readTruth(cutSum.truthFile), full = new Map(readTruth(fullSum.truthFile).rows.map((r) => [r.id, r]));
    const csvIds = readFileSync(cutSum.out, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(cut.rows.map((r) => r.id)).toEqual(csvIds);
    for (const r of cut.rows) {
      expect(r.label).toBe(full.get(r.id)!.label);
      expect(r.p).toBe(full.get(r.id)!.p);
    }
    const pending = cut.rows.filter((r) => r.pending === 1);
    expect(pending.some((r) => r.label === 1)).toBe(true);
    expect(cutSum).toMatchObject({ users: csvIds.length, pending: pending.length, asOf: resolveAsOf({ ...opts, cutoffHours: 0 }) });
    expect(cutSum.positives).toBe(cut.rows.reduce((s, r) => s + r.label, 0));
  });

  it('when asOf is mid-period, then only users who opened by asOf are written and the summary counts them', async () => {
    const asOf = Date.parse('2026-01-10T12:00:00Z');
    const s = await generateToFiles({ users: 2000, seed: 5, asOf, out: join(dir, 'mid.csv') });
    const csv = readFileSync(s.out, 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe(GENERATED_COLUMNS.join(','));
    expect(s.users).toBe(csv.length - 1);
    expect(s.users).toBeGreaterThan(0);
    expect(s.users).toBeLessThan(2000);
    const firstOpens = csv.slice(1).map((l) => parseTimestamp(l.split(',')[1])!);
    expect(firstOpens.every((t) => t <= asOf)).toBe(true);
    expect(s.pending).toBe(readTruth(s.truthFile).rows.filter((r) => r.pending === 1).length);
  });

  it('when asOf is before every first_open, then the files hold only headers and the base rate is NaN', async () => {
    const s = await generateToFiles({ users: 100, seed: 5, asOf: Date.parse('2025-12-31T00:00:00Z'), out: join(dir, 'empty.csv') });
    expect(readFileSync(s.out, 'utf8')).toBe(`${GENERATED_COLUMNS.join(',')}\n`);
    expect(readFileSync(s.truthFile, 'utf8')).toBe('user_id,p_true,label,pending\n');
    expect(s).toMatchObject({ users: 0, positives: 0, pending: 0 });
    expect(s.baseRate).toBeNaN();
    expect(s.oracleAuc).toBeNaN();
  });
});

describe('cut-off options', () => {
  it.each([
    [{ asOf: 1, cutoffHours: 0 }, /asOf and cutoffHours .* got asOf 1 and cutoffHours 0/],
    [{ cutoffHours: -1 }, /cutoffHours .* got -1/],
    [{ cutoffHours: Number.NaN }, /cutoffHours .* got NaN/],
    [{ cutoffHours: Number.POSITIVE_INFINITY }, /cutoffHours .* got Infinity/],
    [{ cutoffHours: 1e20 }, /cutoffHours .* got 100000000000000000000/],
    [{ asOf: Number.NaN }, /asOf .* got NaN/],
    [{ asOf: Number.POSITIVE_INFINITY }, /asOf .* got Infinity/],
    [{ asOf: 9e15 }, /asOf .* got 9000000000000000/],
  ])('when the options are %o, then RangeError names the option and value', (bad, msg) => {
    expect(() => generateUsers({ users: 1, ...bad }).next()).toThrow(RangeError);
    expect(() => generateUsers({ users: 1, ...bad }).next()).toThrow(msg);
  });
});
