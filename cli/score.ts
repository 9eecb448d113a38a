import { parseArgs } from './args';
import { CliContext } from './context';
import { ensureScoreSchedule, scoreNow } from '../client/scoring';

/** `retail24 score [--json]`: scores every new user with the production version now, and makes sure the schedule exists. */
export async function scoreCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean' });
  const ctx = new CliContext(process.env, args.flags.json === true);
  try {
    const client = await ctx.temporal();
    const schedule = await ensureScoreSchedule(client, ctx.config);
    const s = await scoreNow(client, ctx.config, 'cli');
    ctx.out({ ...s, schedule: schedule.scheduleId },
      s.version === null ? `nothing scored: ${s.reason}` : `v${s.version}: ${s.written} users scored (${s.reScored} re-scored inside their window, ${s.skipped} already done) in ${s.jobs} jobs; schedule ${schedule.scheduleId} every ${ctx.config.SCORE_INTERVAL_S} s`);
    return 0;
  } finally {
    await ctx.close();
  }
}
