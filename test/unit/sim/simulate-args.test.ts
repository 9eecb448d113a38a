import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/args';
import { parseSimulateArgs } from '../../../cli/simulate';

describe('retail24 simulate flags', () => {
  it('when no flag is given, then the issue\'s default run is asked for', () => {
    expect(parseSimulateArgs([])).toEqual({
      options: { days: 30, usersPerDay: 2000, shiftDay: 18, shift: 'behaviour', outcomeShare: 0.5, predictShare: 0.5, historyDays: 3, seed: 42 },
      json: false,
    });
  });

  it('when every flag is given, then each reaches its option', () => {
    const a = parseSimulateArgs(['--days', '8', '--users-per-day', '400', '--shift-day', '5', '--shift', 'conversion', '--outcome-share', '0.25',
      '--predict-share', '1', '--history-days', '0', '--seed', '7', '--out', '/tmp/s.json', '--json']);
    expect(a).toEqual({ options: { days: 8, usersPerDay: 400, shiftDay: 5, shift: 'conversion', outcomeShare: 0.25, predictShare: 1, historyDays: 0, seed: 7, out: '/tmp/s.json' }, json: true });
    expect(parseSimulateArgs(['--shift-day', '0']).options.shiftDay).toBeNull();
    expect(parseSimulateArgs(['--days', '10']).options.shiftDay).toBe(6); // 60 % into a replay shorter than 18 days
  });

  it.each([
    [['--days', '0'], /--days must be an integer in 1\.\.3650, got "0"/],
    [['--days', '8', '--shift-day', '9'], /--shift-day must be an integer in 0\.\.8, got "9"/],
    [['--users-per-day', '2.5'], /--users-per-day must be an integer/],
    [['--shift', 'prices'], /--shift must be one of behaviour, conversion, got "prices"/],
    [['--outcome-share', '1.5'], /--outcome-share must be a number in 0\.\.1, got "1.5"/],
    [['--predict-share=-0.1'], /--predict-share must be a number in 0\.\.1, got "-0.1"/],
    [['--seeds', '3'], /unknown option --seeds \(accepted: --days/],
    [['extra'], /unexpected argument "extra"/],
  ])('when the flags are %j, then a UsageError names the flag', (argv, msg) => {
    expect(() => parseSimulateArgs(argv)).toThrow(UsageError);
    expect(() => parseSimulateArgs(argv)).toThrow(msg);
  });
});
