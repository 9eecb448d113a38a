/** Options of the replay and their defaults (kept apart from sim/replay.ts so the CLI parses flags without loading the stack). */
import { SIM_DATA_DEFAULTS, resolveSimDataOptions, type SimDataOptions } from './exports';

export interface ReplayOptions extends SimDataOptions {
  /** Share of each day's new users scored through /v1/predict. @default 0.5 */
  predictShare: number;
  /** Share of buyers whose purchases are posted to /v1/outcomes. @default 0.5 */
  outcomeShare: number;
  /** Settings (PARAM_GRID, MONITOR_*, …) and TEMPORAL_ADDRESS / MONGODB_URI to connect to instead of starting a stack. @default process.env */
  env: NodeJS.ProcessEnv;
  /** Where the JSON goes. @default not written */
  out?: string;
  /** Progress lines. @default none */
  log: (line: string) => void;
  /** Bound for a checkNow to be answered (else the replay is wedged). @default 300000 */
  checkTimeoutMs: number;
  /** Bound for a run to stay current (else the replay is wedged). @default 3600000 */
  runTimeoutMs: number;
}

export const REPLAY_DEFAULTS: Omit<ReplayOptions, 'env'> = {
  ...SIM_DATA_DEFAULTS, predictShare: 0.5, outcomeShare: 0.5, log: () => undefined, checkTimeoutMs: 300_000, runTimeoutMs: 3_600_000,
};

/** The shift day when none is given: 18, or 60 % into a replay shorter than that. */
export function defaultShiftDay(days: number): number {
  const d = REPLAY_DEFAULTS.shiftDay ?? 18;
  return days >= d ? d : Math.max(1, Math.ceil(days * 0.6));
}

/** Merges over REPLAY_DEFAULTS and validates; a bad value is a RangeError naming it. */
export function resolveReplayOptions(partial: Partial<ReplayOptions>): ReplayOptions {
  const o: ReplayOptions = { ...REPLAY_DEFAULTS, env: process.env, ...partial, ...resolveSimDataOptions(pickData(partial)) };
  for (const k of ['predictShare', 'outcomeShare'] as const) if (!(o[k] >= 0 && o[k] <= 1)) throw new RangeError(`${k} must be in [0, 1], got ${o[k]}`);
  for (const k of ['checkTimeoutMs', 'runTimeoutMs'] as const) if (!(o[k] > 0)) throw new RangeError(`${k} must be > 0, got ${o[k]}`);
  return o;
}

function pickData(p: Partial<ReplayOptions>): Partial<SimDataOptions> {
  const keys = Object.keys(SIM_DATA_DEFAULTS) as (keyof SimDataOptions)[];
  return Object.fromEntries(keys.filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));
}
