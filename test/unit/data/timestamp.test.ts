import { describe, expect, it } from 'vitest';
import { seededRng, type Rng } from '../../../ml/rng';
import { parseTimestamp, parseTimestampFull, type TimestampFormat } from '../../../data/timestamp';

// parseTimestamp reads the common shapes char by char and hands everything else to the regex
// grammar (parseTimestampFull); whatever path a text takes, the answer must be the full grammar's.
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Sao_Paulo'];
const FORMATS: TimestampFormat[] = ['auto', 'iso', 'sql'];
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** A timestamp-like text: mostly the common shapes, often slightly wrong in one place. */
function randomText(rng: Rng): string {
  // years around the Gregorian century rules and below 100 (Date.UTC reads those as 19xx)
  const y = [rng.int(10_000), 1900 + rng.int(300), [0, 1, 99, 100, 1900, 2000, 2100, 2400][rng.int(8)]!][rng.int(3)]!;
  const mo = rng.next() < 0.9 ? 1 + rng.int(12) : rng.int(100);
  const d = rng.next() < 0.8 ? 1 + rng.int(28) : 28 + rng.int(5) + (rng.next() < 0.1 ? 60 : 0);
  const h = rng.next() < 0.95 ? rng.int(24) : 24 + rng.int(76);
  const mi = rng.next() < 0.95 ? rng.int(60) : 60 + rng.int(40);
  const s = rng.next() < 0.95 ? rng.int(60) : 60 + rng.int(40);
  const sep = [' ', 'T', 't', '_'][rng.next() < 0.95 ? rng.int(2) : 2 + rng.int(2)]!;
  let text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
  const fracDigits = rng.int(12); // 0 = none; 10 and 11 exceed the grammar's nine
  if (fracDigits > 0 && rng.next() < 0.6) {
    text += rng.next() < 0.8 ? '.' : ',';
    for (let k = 0; k < fracDigits; k++) text += String(rng.int(10));
  } else if (rng.next() < 0.05) text += '.';
  const tail = rng.int(10);
  if (tail < 3) text += 'Z';
  else if (tail === 3) text += `${rng.next() < 0.5 ? '+' : '-'}${pad(rng.int(26), 2)}${rng.next() < 0.5 ? ':' : ''}${pad(rng.int(61), 2)}`;
  else if (tail === 4) text += ['z', ' ', 'Z ', 'x', '0'][rng.int(5)]!;
  else if (tail === 5) text = ` ${text}`;
  else if (tail === 6) text = text.slice(0, rng.int(text.length + 1)); // truncated anywhere
  else if (tail === 7) { // one character replaced
    const at = rng.int(text.length);
    text = text.slice(0, at) + '0-:.T Z9a'[rng.int(9)] + text.slice(at + 1);
  }
  return text;
}

describe('parseTimestamp fast path', () => {
  it('when given many random timestamps in several zones and formats, then it agrees with the full grammar on every one', () => {
    const rng = seededRng(2026);
    const disagreements: string[] = [];
    let parsedByBoth = 0;
    for (let i = 0; i < 60_000; i++) {
      const text = randomText(rng);
      const tz = ZONES[rng.int(ZONES.length)]!;
      const format = FORMATS[rng.int(FORMATS.length)]!;
      const fast = parseTimestamp(text, tz, format);
      const full = parseTimestampFull(text, tz, format);
      if (!Object.is(fast, full)) disagreements.push(`${JSON.stringify(text)} ${tz} ${format}: ${fast} vs ${full}`);
      if (full !== null) parsedByBoth++;
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    // agreement on refusals alone would say little about the values the fast path computes: by
    // construction roughly a quarter of the texts are valid for their format (each field in range
    // ~75 %, a tail that keeps them valid 40 %, a separator the format accepts 2/3); one in six is
    // a floor under that which still fails if the generator degenerates into mostly garbage
    expect(parsedByBoth).toBeGreaterThan(10_000);
  });

  it('when wall times sit on DST transitions, then both paths give the same instant', () => {
    const cases: [string, string][] = [
      ['2026-03-29 02:30:00', 'Europe/Berlin'], ['2026-10-25 02:30:00.5', 'Europe/Berlin'],
      ['2026-03-08T02:15:00', 'America/New_York'], ['2026-11-01 01:30:00,999', 'America/New_York'],
      ['2026-04-05 01:45:00', 'Australia/Lord_Howe'], ['2026-10-04 02:15:00', 'Australia/Lord_Howe'],
    ];
    for (const [text, tz] of cases) expect(parseTimestamp(text, tz)).toBe(parseTimestampFull(text, tz));
  });

  it.each([
    ['2024-02-29 12:00:00', Date.UTC(2024, 1, 29, 12)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['2026-01-05 09:15:02.1', Date.UTC(2026, 0, 5, 9, 15, 2, 100)],
    ['2026-01-05T09:15:02,123456789Z', Date.UTC(2026, 0, 5, 9, 15, 2, 123)],
  ])('when given the common shape %s, then it is %d', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each(['2100-02-29 00:00:00', '1900-02-29 00:00:00', '2026-04-31 00:00:00', '2026-01-05 09:15:02.1234567890', '2026-01-05 09:15:02.'])(
    'when given %j, then it is null', (text) => {
      expect(parseTimestamp(text)).toBeNull();
    });

  it('when format is sql, then a Z suffix is refused even in the common shape', () => {
    expect(parseTimestamp('2026-01-05 09:15:02Z', 'UTC', 'sql')).toBeNull();
    expect(parseTimestamp('2026-01-05 09:15:02Z', 'UTC', 'auto')).toBe(Date.UTC(2026, 0, 5, 9, 15, 2));
  });
});
