import { SHIFTS, type Shift } from '../data/generator';
import { REPLAY_DEFAULTS, defaultShiftDay, type ReplayOptions } from '../sim/options';
import type { ReplayResult } from '../sim/replay';
import { parseArgs, UsageError } from './args';

export const SIMULATE_USAGE = 'retail24 simulate [--days 30] [--users-per-day 2000] [--shift-day 18 (0 = no shift)] [--shift behaviour|conversion] ' +
  '[--outcome-share 0.5] [--predict-share 0.5] [--history-days 3] [--seed N] [--out file.json] [--json]';

const OPTIONS = {
  days: 'string',
  'users-per-day': 'string',
  'shift-day': 'string',
  shift: 'string',
  'outcome-share': 'string',
  'predict-share': 'string',
  'history-days': 'string',
  seed: 'string',
  out: 'string',
  json: 'boolean',
} as const;

function int(values: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return def;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

function share(values: Record<string, unknown>, name: string, def: number): number {
  const v = values[name];
  if (v === undefined) return def;
  const n = typeof v === 'string' && /^(\d+(\.\d*)?|\.\d+)$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--${name} must be a number in 0..1, got ${JSON.stringify(v)}`);
  return n;
}

/** The replay options the flags ask for, plus where to write and how to print; bad input is a UsageError naming the flag. */
export function parseSimulateArgs(argv: string[]): { options: Partial<ReplayOptions>; json: boolean } {
  const parsed = parseArgs(argv, OPTIONS, SIMULATE_USAGE);
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positional[0])} (usage: ${SIMULATE_USAGE})`);
  const values: Record<string, unknown> = parsed.flags;
  const days = int(values, 'days', REPLAY_DEFAULTS.days, 1, 3650);
  const shiftDayFlag = int(values, 'shift-day', defaultShiftDay(days), 0, days);
  const shift = values.shift ?? REPLAY_DEFAULTS.shift;
  if (!SHIFTS.includes(shift as Shift)) throw new UsageError(`--shift must be one of ${SHIFTS.join(', ')}, got ${JSON.stringify(values.shift)}`);
  const out = values.out as string | undefined;
  if (out === '') throw new UsageError('--out needs a file name');
  return {
    options: {
      days,
      usersPerDay: int(values, 'users-per-day', REPLAY_DEFAULTS.usersPerDay, 1, 10_000_000),
      shiftDay: shiftDayFlag === 0 ? null : shiftDayFlag,
      shift: shift as Shift,
      outcomeShare: share(values, 'outcome-share', REPLAY_DEFAULTS.outcomeShare),
      predictShare: share(values, 'predict-share', REPLAY_DEFAULTS.predictShare),
      historyDays: int(values, 'history-days', REPLAY_DEFAULTS.historyDays, 0, 365),
      seed: int(values, 'seed', REPLAY_DEFAULTS.seed, 0, 2 ** 31 - 1),
      ...(out ? { out } : {}),
    },
    json: values.json === true,
  };
}

function human(r: ReplayResult): string {
  const s = r.summary;
  return [
    `replayed ${r.days.length} days (${r.options.usersPerDay} users/day, shift ${r.options.shiftDay === null ? 'none' : `${r.options.shift} from day ${r.options.shiftDay}`}) in ${s.wall_s.toFixed(0)} s`,
    `false triggers before the shift: ${s.false_triggers_before_shift} (new-data fires, the growth rule: ${s.new_data_fires_before_shift})`,
    `detection delay: ${s.detection_delay_days === null ? 'never detected' : `${s.detection_delay_days} days`}`,
    `promotions: ${s.promotions} (harmful ${s.harmful_promotions}, improving after the shift ${s.improving_promotions_after_shift}, unscored ${s.unscored_promotions})`,
    `wedged: ${s.wedged ? `yes — ${s.wedged_reason}` : 'no'}`,
    ...(r.options.out ? [`JSON: ${r.options.out}`] : []),
  ].join('\n');
}

/**
 * `retail24 simulate …`: replays daily exports through the real system on a private stack (or the
 * TEMPORAL_ADDRESS / MONGODB_URI servers, with a private database) and scores its decisions
 * against the generator's truth (sim/README.md). Progress per day on stderr.
 */
export async function simulateCommand(argv: string[]): Promise<number> {
  const { options, json } = parseSimulateArgs(argv);
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  // The in-process worker's state chatter would drown the one progress line per day.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { runReplay } = await import('../sim/replay');
  const result = await runReplay({ ...options, env: process.env, log: (line) => process.stderr.write(`${line}\n`) });
  console.log(json ? JSON.stringify(result) : human(result));
  return 0;
}
