import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../../data/timestamp';
import { generateUsers } from '../../../data/generator';
import { buildDayExport, cohortOptions, dayStart, inShare, resolveSimDataOptions, type DayExport } from '../../../sim/exports';

const DAY = 86_400_000;

interface FileRow { userId: string; firstOpen: number; purchase: number | null; firstDay: string }

/** Rows of an export: `id,first_open,"screens",age,numscreens,purchase_date,minigame,liked`. */
function rowsOf(exp: DayExport): FileRow[] {
  return exp.csv.trimEnd().split('\n').slice(1).map((line) => {
    const [head, screens, tail] = line.split('"');
    const [userId, fo] = head.split(',');
    const cells = tail.split(',');
    const purchase = cells[3] === '' ? null : parseTimestamp(cells[3])!;
    cells[3] = '';
    return { userId, firstOpen: parseTimestamp(fo)!, purchase, firstDay: `${head}"${screens}"${cells.join(',')}` };
  });
}

describe('sim exports (6 days × 300 users, shift day 4)', () => {
  const o = resolveSimDataOptions({ days: 6, usersPerDay: 300, shiftDay: 4, shift: 'behaviour', historyDays: 2, seed: 7 });
  const exports = Array.from({ length: o.days }, (_, i) => buildDayExport(o, i + 1));

  it('when a day is exported, then it holds that day\'s users plus the previous day\'s, cut at the end of the day', () => {
    for (const exp of exports) {
      const rows = rowsOf(exp);
      expect(exp.asOf).toBe(dayStart(o, exp.day) + DAY);
      expect(rows.map((r) => r.userId)).toEqual([...exp.carriedUsers, ...exp.newUsers].map((u) => u.userId));
      expect(exp.newUsers).toHaveLength(300);
      expect(exp.carriedUsers).toHaveLength(exp.day === 1 ? 600 : 300); // day 1 carries the 2-day history
      expect(exp.newUsers.every((u) => u.firstOpen >= dayStart(o, exp.day) && u.firstOpen < exp.asOf)).toBe(true);
      expect(rows.every((r) => r.firstOpen <= exp.asOf && (r.purchase === null || r.purchase <= exp.asOf))).toBe(true);
    }
  });

  it('when ids are compared, then they are unique within each file and across days, and the carried ids are yesterday\'s', () => {
    const all = exports.flatMap((e) => e.newUsers.map((u) => u.userId));
    expect(new Set(all).size).toBe(all.length);
    for (const exp of exports) {
      const ids = rowsOf(exp).map((r) => r.userId);
      expect(new Set(ids).size).toBe(ids.length);
      if (exp.day > 1) expect(exp.carriedUsers.map((u) => u.userId)).toEqual(exports[exp.day - 2].newUsers.map((u) => u.userId));
    }
  });

  it('when a user is pending in day d\'s file, then day d + 1\'s file shows the same first day and the eventual label', () => {
    for (const exp of exports.slice(0, -1)) {
      const next = new Map(rowsOf(exports[exp.day]).map((r) => [r.userId, r]));
      const truth = new Map(exp.newUsers.map((u) => [u.userId, u]));
      // Every window of day d is open at its end: all of day d's users wait (ingest holds them
      // pending, early buyers included); the ones without a purchase yet hide their label.
      expect(exp.pending).toBe(exp.newUsers.length);
      const pending = rowsOf(exp).filter((r) => truth.has(r.userId) && r.purchase === null);
      expect(pending.some((r) => truth.get(r.userId)!.label === 1)).toBe(true); // hidden buyers exist
      for (const r of pending) {
        const later = next.get(r.userId)!;
        const u = truth.get(r.userId)!;
        expect(later.firstDay).toBe(r.firstDay);
        const seen = later.purchase !== null && later.purchase - later.firstOpen <= DAY ? 1 : 0;
        expect(seen).toBe(u.label);
        expect(exports[exp.day].asOf - later.firstOpen).toBeGreaterThanOrEqual(DAY); // matured there
      }
    }
  });

  it('when the shift day comes, then only users from that day on are shifted, and their carried copies stay as generated', () => {
    for (const exp of exports) {
      const opts = cohortOptions(o, exp.day);
      expect(exp.shifted).toBe(exp.day >= 4);
      expect(opts.shift).toBe(exp.day >= 4 ? 'behaviour' : undefined);
      const { shift: _shift, ...unshifted } = opts;
      const plain = Array.from(generateUsers(unshifted), (r) => r.row);
      const rows = exp.newUsers.map((u) => u.row);
      if (exp.day < 4) expect(rows).toEqual(plain);
      else {
        expect(rows).not.toEqual(plain);
        // the shift moves screens only: first opens and ages equal user by user
        const keep = (row: string) => { const [head, , tail] = row.split('"'); return `${head}|${tail.split(',')[1]}`; };
        expect(rows.map(keep)).toEqual(plain.map(keep));
      }
      if (exp.day > 1) {
        const prev = new Map(exports[exp.day - 2].newUsers.map((u) => [u.userId, u.row]));
        expect(exp.carriedUsers.every((u) => u.row === prev.get(u.userId))).toBe(true);
      }
    }
  });

  it('when built twice, then the files are byte-identical; another seed differs', () => {
    expect(buildDayExport(o, 3).csv).toBe(exports[2].csv);
    expect(buildDayExport({ ...o, seed: 8 }, 3).csv).not.toBe(exports[2].csv);
  });

  it('when options are bad, then RangeError names them', () => {
    expect(() => resolveSimDataOptions({ days: 0 })).toThrow(/days .* got 0/);
    expect(() => resolveSimDataOptions({ days: 5, shiftDay: 6 })).toThrow(/shiftDay .* got 6/);
    expect(() => resolveSimDataOptions({ shift: 'prices' as never })).toThrow(/shift must be one of/);
    expect(() => buildDayExport(o, 7)).toThrow(/day .* got 7/);
  });
});

describe('inShare', () => {
  it('when 10,000 ids are sampled at 0.3, then about 30 % are in, the same each time, and another salt picks others', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => String(1_000_000 + i));
    const a = ids.filter((id) => inShare(42, 1, id, 0.3));
    // binomial sd at n = 10k, p = 0.3 is 0.0046: ±0.02 is over 4 sd
    expect(Math.abs(a.length / ids.length - 0.3)).toBeLessThan(0.02);
    expect(ids.filter((id) => inShare(42, 1, id, 0.3))).toEqual(a);
    const b = new Set(ids.filter((id) => inShare(42, 2, id, 0.3)));
    const both = a.filter((id) => b.has(id)).length / ids.length;
    expect(Math.abs(both - 0.09)).toBeLessThan(0.02); // independent: 0.3 × 0.3
    expect(ids.every((id) => !inShare(42, 1, id, 0) && inShare(42, 1, id, 1))).toBe(true);
  });
});
