import { describe, expect, it } from 'vitest';
import { parseArgs, intFlag, UsageError } from '../../../cli/args';

describe('parseArgs', () => {
  const spec = { once: 'boolean', users: 'string', json: 'boolean' } as const;

  it('when flags come in both forms, then values and positionals are separated', () => {
    const a = parseArgs(['file.csv', '--users', '10', '--once', '--json=false'], spec);
    expect(a.positional).toEqual(['file.csv']);
    expect(a.flags).toEqual({ users: '10', once: true, json: false });
  });

  it('when an option is unknown, then a UsageError names it', () => {
    expect(() => parseArgs(['--uesrs', '5'], spec)).toThrow(/unknown option --uesrs/);
  });

  it('when a string option has no value, then a UsageError says so', () => {
    expect(() => parseArgs(['--users'], spec)).toThrow(UsageError);
  });

  it('when an integer flag is out of range, then the error shows the bad value', () => {
    const a = parseArgs(['--users', '-3'], spec);
    expect(() => intFlag(a, 'users', 1, 1, 100)).toThrow(/--users must be an integer in 1\.\.100, got "-3"/);
  });
});
