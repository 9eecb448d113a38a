import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readUserLogs, type ParsedRow } from '../../../data/csv-reader';
import { IngestFileError } from '../../../data/errors';
import { parseMapping, type Mapping } from '../../../data/mapping';

const dir = new URL('../../fixtures/ingest/', import.meta.url);
const path = (name: string) => new URL(name, dir).pathname;

async function readAll(name: string, mapping?: Mapping, startLine?: number): Promise<ParsedRow[]> {
  const rows: ParsedRow[] = [];
  for await (const r of readUserLogs(createReadStream(path(name)), { fileName: name, mapping, startLine })) rows.push(r);
  return rows;
}

const rejects = (rows: ParsedRow[]) => rows.filter((r) => r.kind === 'reject').map((r) => r.kind === 'reject' && [r.line, r.reason]);
const okLines = (rows: ParsedRow[]) => rows.filter((r) => r.kind === 'ok').map((r) => r.line);

describe('readUserLogs on bad-row fixtures', () => {
  it.each([
    ['bad-column-count.csv', 3, 'column-count', [2, 4]],
    ['bad-timestamp.csv', 3, 'bad-timestamp', [2, 4]],
    ['purchase-before-open.csv', 3, 'purchase-before-open', [2]],
    ['negative-count.csv', 3, 'negative-count', [2]],
  ] as const)('when %s is read, then line %i is rejected as %s and the rest pass', async (file, line, reason, ok) => {
    const rows = await readAll(file);
    expect(rejects(rows)).toEqual([[line, reason]]);
    expect(okLines(rows)).toEqual(ok);
  });

  it('when ages 0 and 120 meet -1 and 121, then only the out-of-range lines are rejected', async () => {
    const rows = await readAll('age-out-of-range.csv');
    expect(rejects(rows)).toEqual([[4, 'age-out-of-range'], [5, 'age-out-of-range']]);
  });

  it('when a reject is yielded, then raw is the original row text and detail names the column', async () => {
    const [, bad] = await readAll('bad-timestamp.csv');
    expect(bad).toMatchObject({ kind: 'reject', raw: '3002,2026-13-05 09:15:02,"home",30,1,' });
    expect(bad.kind === 'reject' && bad.detail).toMatch(/^first_open: .*2026-13-05/);
  });

  it('when a user_id repeats, then the later line is ok with duplicateOfLine pointing at the earlier', async () => {
    const rows = await readAll('duplicate-user-id.csv');
    expect(rows.map((r) => r.kind)).toEqual(['ok', 'ok', 'ok']);
    expect(rows[2]).toMatchObject({ line: 4, duplicateOfLine: 2, record: { userId: '7001', label: 1 } });
    expect(rows[0]).not.toHaveProperty('duplicateOfLine');
  });

  it('when startLine skips the first copy of a duplicate, then the later row still reports it', async () => {
    const rows = await readAll('duplicate-user-id.csv', undefined, 4);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ line: 4, duplicateOfLine: 2 });
  });

  it('when a quoted field spans lines, then rows are numbered by their first physical line', async () => {
    const rows = await readAll('multiline-quoted.csv');
    expect(rows[0]).toMatchObject({ kind: 'ok', line: 2, record: { screens: ['home', 'cart', 'checkout_payment'] } });
    expect(rejects(rows)).toEqual([[6, 'purchase-before-open']]);
  });

  it('when bytes arrive in chunks of any size, then lines and records are identical', async () => {
    const bytes = readFileSync(path('multiline-quoted.csv'));
    const crlf = Buffer.from(bytes.toString('utf8').replace(/\n/g, '\r\n'));
    const read = async (buf: Buffer, size: number) => {
      const chunks = [];
      for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
      const rows: ParsedRow[] = [];
      for await (const r of readUserLogs(Readable.from(chunks), { fileName: 'x.csv' })) rows.push(r);
      return rows.map((r) => [r.kind, r.line]);
    };
    const expected = await read(bytes, 1 << 20);
    for (const size of [1, 2, 7]) expect(await read(bytes, size)).toEqual(expected);
    expect(await read(crlf, 1)).toEqual(expected);
    expect(await read(crlf, 3)).toEqual(expected);
  });
});

describe('readUserLogs on clean and mapped files', () => {
  it('when the clean fixture is read, then every row is ok with the documented normalisation', async () => {
    const rows = await readAll('clean.csv');
    expect(rows.every((r) => r.kind === 'ok')).toBe(true);
    const recs = rows.map((r) => (r.kind === 'ok' ? r.record : null));
    expect(recs[0]).toMatchObject({ userId: '1001', firstOpen: Date.UTC(2026, 0, 5, 9, 15, 2, 125), numscreens: 5, label: 1 });
    expect(recs[2]).toMatchObject({ screens: [], numscreens: 0, label: 0 });
    // "00123" keeps its zeros; spaces and empty names drop; purchase 24 h + 1 s later is a negative.
    expect(recs[3]).toMatchObject({ userId: '00123', screens: ['home', 'deals', 'coupons'], age: null, numscreens: 3, label: 0 });
    expect(recs[4]).toMatchObject({ firstOpen: Date.UTC(2026, 0, 7, 7), purchaseDate: Date.UTC(2026, 0, 8, 7), label: 1 });
  });

  it('when a mapping renames columns and declares pass-through, then records use them and ignore the rest', async () => {
    const mapping = parseMapping(JSON.parse(readFileSync(path('renamed-columns.mapping.json'), 'utf8')));
    const rows = await readAll('renamed-columns.csv', mapping);
    expect(rows.map((r) => r.kind === 'ok' && [r.record.userId, r.record.label, r.record.extra])).toEqual([
      ['u-1', 1, { minigame: 1, liked: 0 }],
      ['u-2', 0, { minigame: 0, liked: 1 }],
      ['u-3', 0, { minigame: 1, liked: 1 }],
    ]);
  });

  it('when the file has no purchase_date column, then labels are null', async () => {
    const csv = 'user_id,first_open,screen_list\n1,2026-01-01 00:00:00,home\n';
    const rows: ParsedRow[] = [];
    for await (const r of readUserLogs(Readable.from([csv]), { fileName: 'x.csv' })) rows.push(r);
    expect(rows[0]).toMatchObject({ kind: 'ok', record: { label: null, purchaseDate: null, numscreens: 1 } });
  });

  it('when the mapping zone is America/New_York, then DST-crossing wall times convert by their own offset', async () => {
    const mapping = parseMapping(JSON.parse(readFileSync(path('dst-new-york.mapping.json'), 'utf8')));
    const rows = await readAll('dst-new-york.csv', mapping);
    // 01:30 EST (-5) then 03:30 EDT (-4) the same night: 1 h apart, not 2.
    expect(rows[0]).toMatchObject({ record: { firstOpen: Date.UTC(2026, 2, 8, 6, 30), purchaseDate: Date.UTC(2026, 2, 8, 7, 30) } });
    // 01:30 on fall-back night happens twice; the earlier (EDT, -4) instant is taken.
    expect(rows[1]).toMatchObject({ record: { firstOpen: Date.UTC(2026, 10, 1, 5, 30) } });
  });
});

describe('readUserLogs whole-file failures', () => {
  it.each([
    ['missing-column.csv', 'missing-column', 'first_open'],
    ['not-utf8.csv', 'not-utf8', undefined],
    ['binary.csv', 'not-csv', undefined],
    ['empty.csv', 'empty-file', undefined],
  ] as const)('when %s is read, then IngestFileError %s is thrown before any row', async (file, code, column) => {
    const seen: ParsedRow[] = [];
    const err = await (async () => {
      try {
        for await (const r of readUserLogs(createReadStream(path(file)), { fileName: file })) seen.push(r);
      } catch (e) {
        return e;
      }
    })();
    expect(seen).toEqual([]);
    expect(err).toBeInstanceOf(IngestFileError);
    expect(err).toMatchObject({ code, file, column });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toContain('\n');
  });

  it('when the mapping names a column the header lacks, then mapping-column-missing names it', async () => {
    const mapping = parseMapping({ columns: { user_id: 'user', age: 'user_age' } });
    await expect(readAll('renamed-columns.csv', mapping)).rejects.toMatchObject({ code: 'mapping-column-missing', column: 'user_age' });
  });

  it('when a quote is never closed, then not-csv names the line', async () => {
    const csv = 'user_id,first_open,screen_list\n1,2026-01-01 00:00:00,"home\n';
    const run = async () => { for await (const _ of readUserLogs(Readable.from([csv]), { fileName: 'q.csv' })) void _; };
    await expect(run()).rejects.toMatchObject({ code: 'not-csv', file: 'q.csv' });
  });
});
