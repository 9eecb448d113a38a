/**
 * Replay benchmark (issue 10 §5 "Goals"): the default replay — 30 days × 2,000 users, a behaviour
 * shift from day 18, half the users scored and half the buyers reporting — through the real
 * system, scored against the truth.
 *
 *   npx tsx bench/simulate.ts [--shift behaviour|conversion] [--seed N]
 *
 * Settings come from the environment (PARAM_GRID, MONITOR_*, …; unset = the defaults), a private
 * stack unless TEMPORAL_ADDRESS / MONGODB_URI are set. Writes
 * bench/results/simulate-<date>[-<shift>].json; progress per day on stderr.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SHIFTS, type Shift } from '../data/generator';
import { runReplay, type ReplayResult } from '../sim/replay';
import { REPLAY_DEFAULTS } from '../sim/options';
import { intFlag, scriptArgs, strFlag, UsageError } from '../cli/args';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs the default replay (optionally another shift or seed) and writes its JSON; returns the result. */
export async function runSimulateBench(opts: { shift?: Shift; seed?: number } = {}): Promise<ReplayResult> {
  const shift = opts.shift ?? REPLAY_DEFAULTS.shift;
  const date = new Date().toISOString().slice(0, 10);
  const out = join(ROOT, 'bench', 'results', `simulate-${date}${shift === REPLAY_DEFAULTS.shift ? '' : `-${shift}`}.json`);
  return runReplay({ shift, seed: opts.seed ?? REPLAY_DEFAULTS.seed, out, env: process.env, log: (line) => process.stderr.write(`${line}\n`) });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const a = scriptArgs({ shift: 'string', seed: 'string' }, `bench/simulate.ts [--shift ${SHIFTS.join('|')}] [--seed N]`);
  const shift = strFlag(a, 'shift');
  if (shift !== undefined && !SHIFTS.includes(shift as Shift)) throw new UsageError(`--shift must be one of ${SHIFTS.join(', ')}, got ${JSON.stringify(shift)}`);
  const r = await runSimulateBench({ shift: shift as Shift | undefined, seed: a.flags.seed === undefined ? undefined : intFlag(a, 'seed', 0, 0, 2 ** 31 - 1) });
  console.log(JSON.stringify({ out: r.options.out, summary: r.summary }, null, 2));
}
