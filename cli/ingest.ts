import { readFile, access } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { Db } from 'mongodb';
import { latestBatchOfUpload } from '../store/batches';
import { uploadFile } from '../store/uploads';
import { parseMapping } from '../data/mapping';
import { parseArgs, strFlag, UsageError } from './args';
import { CliContext } from './context';
import { ingestViaWorkflow } from '../client/pipeline';
import { parseAsOf } from './as-of';

export async function readMapping(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new UsageError(`cannot read mapping ${path}: ${e.message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`mapping ${path} is not valid JSON: ${(e as Error).message}`);
  }
  // Checked here too, so a bad mapping fails before the upload, naming the file.
  try {
    parseMapping(json);
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
  return json;
}

/** temporal.api.enums.v1.TaskQueueType; @temporalio/proto is CommonJS and not a direct dependency. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;

/** Without a worker the workflow would wait forever; say so instead of hanging. */
async function assertWorkerPolling(client: Client, namespace: string, taskQueue: string): Promise<void> {
  const res = await client.workflowService.describeTaskQueue({
    namespace, taskQueue: { name: taskQueue }, taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
  });
  if ((res.pollers ?? []).length === 0) throw new Error(`no worker is polling task queue ${taskQueue} (start one with \`retail24 worker\`)`);
}

/** The innermost failure message: the activity's one-line reason, not "Workflow execution failed". */
function reasonOf(err: WorkflowFailedError): string {
  let e: Error | undefined = err;
  while (e && (e as { cause?: Error }).cause) e = (e as { cause?: Error }).cause;
  return e?.message ?? err.message;
}

function showProgress(db: Db, uploadId: string): () => void {
  const tty = process.stderr.isTTY === true;
  let shown = '';
  const timer = setInterval(() => {
    void latestBatchOfUpload(db, uploadId)
      .then((b) => {
        if (!b) return;
        const line = `ingest ${b.fileName}: ${b.progress.phase} ${b.progress.linesDone.toLocaleString('en-US')} lines`;
        if (line === shown) return;
        shown = line;
        process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
      })
      .catch(() => undefined);
  }, tty ? 500 : 5000);
  return () => {
    clearInterval(timer);
    if (tty && shown) process.stderr.write('\n');
  };
}

/**
 * `retail24 ingest <csv> [--mapping m.json] [--as-of TIME] [--json]`: runs the ingest workflow,
 * shows progress, prints a JSON summary. `--as-of` is when the export was taken (default: the
 * latest timestamp in the file); users inside their 24 h window then are pending.
 */
export async function ingestCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { mapping: 'string', 'as-of': 'string', json: 'boolean' });
  const file = args.positional[0];
  if (!file || args.positional.length > 1) throw new UsageError('usage: retail24 ingest <csv> [--mapping m.json] [--as-of TIME] [--json]');
  await access(file).catch(() => {
    throw new UsageError(`cannot read ${file}: no such file or not readable`);
  });
  const mappingPath = strFlag(args, 'mapping');
  const mapping = mappingPath ? await readMapping(mappingPath) : undefined;
  const asOf = parseAsOf(strFlag(args, 'as-of'), mapping);
  const ctx = new CliContext(process.env, args.flags.json === true);
  try {
    const db = await ctx.db();
    const client = await ctx.temporal();
    await assertWorkerPolling(client, ctx.config.TEMPORAL_NAMESPACE, ctx.config.TASK_QUEUE);
    // Uploading here (ingestViaWorkflow's own upload is then a no-op) gives the id to follow.
    const stop = showProgress(db, (await uploadFile(db, file)).uploadId);
    try {
      const summary = await ingestViaWorkflow(client, db, ctx.config, file, mapping, asOf);
      stop();
      console.log(JSON.stringify(summary, null, ctx.json ? 0 : 2));
    } catch (err) {
      stop();
      if (err instanceof WorkflowFailedError) throw new Error(reasonOf(err));
      throw err;
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
