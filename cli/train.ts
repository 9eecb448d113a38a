import { parseArgs, strFlag } from './args';
import { CliContext } from './context';
import { startTraining } from '../client/pipeline';
import { TRIGGERS } from '../common/workflow-types';

/** `retail24 train [--wait] [--reason TEXT]`: starts the pipeline; with --wait prints the run's result. */
export async function trainCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { wait: 'boolean', reason: 'string', json: 'boolean' });
  const ctx = new CliContext(process.env, args.flags.json === true);
  try {
    const client = await ctx.temporal();
    const handle = await startTraining(client, ctx.config, TRIGGERS.manual, strFlag(args, 'reason') ?? 'manual run from the CLI', process.env.USER);
    if (!args.flags.wait) {
      ctx.out({ runId: handle.workflowId, started: true });
      return 0;
    }
    const result = await handle.result();
    ctx.out({ runId: result.runId, version: result.version.version, metrics: result.version.metrics, threshold: result.selection.threshold, promotion: result.promotion });
    return 0;
  } finally {
    await ctx.close();
  }
}
