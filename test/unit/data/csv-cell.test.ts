import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { csvCell } from '../../../data/csv-cell';

describe('csvCell', () => {
  it.each([
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\r=1', `"'\r=1"`],
  ])('when a cell starts like a formula (%j), then it is written as text', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it.each(['u1', '-3', '0.25', '-1.5e-3', 'a,b', 'say "hi"', ''])('when a cell is no formula (%j), then it reads back unchanged', (value) => {
    const rows = parse(`${csvCell(value)},x\n`) as string[][];
    expect(rows[0]![0]).toBe(value);
  });
});
