import { parseArgs, strFlag, UsageError } from './args';
import { CliContext } from './context';
import { ensureMonitor } from '../client/monitor';
import { requestRetrainSignal } from '../common/messages';

/** `retail24 retrain --reason TEXT [--by NAME]`: signals the model's monitor (starting it if needed). */
export async function retrainCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { reason: 'string', by: 'string', json: 'boolean' });
  const reason = strFlag(args, 'reason');
  if (!reason || reason.trim() === '') throw new UsageError('--reason TEXT is required (it is recorded with the run)');
  const ctx = new CliContext(process.env, args.flags.json === true);
  try {
    const client = await ctx.temporal();
    const { workflowId } = await ensureMonitor(client, ctx.config);
    await client.workflow.getHandle(workflowId).signal(requestRetrainSignal, { reason, requestedBy: strFlag(args, 'by') ?? process.env.USER ?? 'cli' });
    ctx.out({ signalled: workflowId, reason }, `retrain requested from ${workflowId}: ${reason}`);
    return 0;
  } finally {
    await ctx.close();
  }
}
