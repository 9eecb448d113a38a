import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readUserLogs, type ParsedRow } from '../../../data/csv-reader';

const CSV = [
  'user_id,first_open,screen_list,age',
  'a,2026-01-01 10:00:00,"home,cart",30',
  'b,2026-01-01 11:00:00,home,40',
  'a,2026-01-02 10:00:00,home,31',
  'b,2026-01-02 11:00:00,cart,41',
].join('\n');

async function read(opts: { trackDuplicates?: boolean; startLine?: number }): Promise<ParsedRow[]> {
  const rows: ParsedRow[] = [];
  for await (const r of readUserLogs(Readable.from([Buffer.from(CSV)]), { fileName: 'dup.csv', ...opts })) rows.push(r);
  return rows;
}
const dupOf = (rows: ParsedRow[]) => rows.map((r) => (r.kind === 'ok' ? [r.line, r.duplicateOfLine ?? null] : [r.line, r.reason]));

describe('readUserLogs duplicate tracking', () => {
  it('when tracking is on (the default), then a repeated id names the line it supersedes', async () => {
    expect(dupOf(await read({}))).toEqual([[2, null], [3, null], [4, 2], [5, 3]]);
  });

  it('when tracking is on and reading starts later, then rows before the start still count as seen', async () => {
    expect(dupOf(await read({ startLine: 4 }))).toEqual([[4, 2], [5, 3]]);
  });

  it('when tracking is off, then the same rows come back without duplicate marks', async () => {
    expect(dupOf(await read({ trackDuplicates: false }))).toEqual([[2, null], [3, null], [4, null], [5, null]]);
  });
});
