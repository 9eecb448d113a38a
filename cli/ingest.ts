import { readFile, access } from 'node:fs/promises';
import { COLLECTIONS } from '../store/collections';
import { parseArgs, strFlag, UsageError } from './args';
import { CliContext } from './context';
import { ingestViaWorkflow } from './pipeline';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';

async function readMapping(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new UsageError(`cannot read mapping ${path}: ${e.message}`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`mapping ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** `retail24 ingest <csv> [--mapping m.json]`: runs the ingest workflow, shows progress, prints a JSON summary. */
export async function ingestCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { mapping: 'string', json: 'boolean' });
  const file = args.positional[0];
  if (!file || args.positional.length > 1) throw new UsageError('usage: retail24 ingest <csv> [--mapping m.json]');
  await access(file).catch(() => {
    throw new UsageError(`cannot read ${file}: no such file or not readable`);
  });
  const mappingPath = strFlag(args, 'mapping');
  const mapping = mappingPath ? await readMapping(mappingPath) : undefined;
  const ctx = new CliContext(process.env, args.flags.json === true);
  try {
    const db = await ctx.db();
    const client = await ctx.temporal();
    const uploadId = await fileSha(file);
    const tty = process.stderr.isTTY;
    const poll = setInterval(async () => {
      const b = await db.collection(COLLECTIONS.ingestBatches).find({ uploadId }).sort({ startedAt: -1 }).limit(1).next().catch(() => null);
      if (b?.progress) process.stderr.write(`${tty ? '\r' : ''}ingest ${file}: ${b.progress.phase} ${b.progress.linesDone} lines${tty ? '   ' : '\n'}`);
    }, tty ? 500 : 5000);
    try {
      const summary = await ingestViaWorkflow(client, db, ctx.config, file, mapping);
      if (tty) process.stderr.write('\n');
      console.log(JSON.stringify(summary, null, ctx.json ? 0 : 2));
    } finally {
      clearInterval(poll);
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
