import { describe, expect, it } from 'vitest';
import { parseArgs, intFlag, numFlag, UsageError } from '../../../cli/args';

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

describe('parseArgs on node:util (strict)', () => {
  const spec = { users: 'string', json: 'boolean' } as const;
  it('when a boolean is given a value other than true/false, then the error names the option', () => {
    expect(() => parseArgs(['--json=yes'], spec)).toThrow(/--json/);
  });
  it('when a string option is followed by another option, then it needs a value', () => {
    expect(() => parseArgs(['--users', '--json'], spec)).toThrow(/option --users needs a value/);
  });
  it('when a usage line is given, then errors carry it', () => {
    expect(() => parseArgs(['--nope'], spec, 'bench x [--users N]')).toThrow(/unknown option --nope \(accepted: --users, --json\) \(usage: bench x \[--users N\]\)/);
  });
  it('when a number flag is not a number, then the error shows the value', () => {
    expect(() => numFlag(parseArgs(['--users', 'ten'], spec), 'users', 1, 0, 10)).toThrow(/--users must be a number in 0\.\.10, got "ten"/);
    expect(intFlag(parseArgs(['--users=1e3'], spec), 'users', 1, 0, 10_000)).toBe(1000);
  });
});
