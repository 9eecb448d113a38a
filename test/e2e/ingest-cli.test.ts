import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config';
import { createWorker } from '../../worker/worker';
import { testEnv, testStack, uniqueDbName } from '../helpers/stack';
import { FIXTURES, openDb, usersSnapshot } from '../helpers/ingest';

const BIN = fileURLToPath(new URL('../../bin/retail24.mjs', import.meta.url));
const dbName = uniqueDbName(import.meta.url);
const env = () => testEnv(dbName, { TASK_QUEUE: taskQueue });
const taskQueue = `ingest-cli-${randomBytes(4).toString('hex')}`;
let mongo: MongoClient;
let db: Db;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, 'ingest', ...args], { env: env() })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = testStack();
  ({ client: mongo, db } = await openDb(stack.mongoUri, dbName));
  connection = await NativeConnection.connect({ address: stack.temporalAddress });
  worker = await createWorker({ connection, db, config: loadConfig(env()) });
  running = worker.run();
  // The CLI refuses to start a workflow nobody polls for; wait until the server has seen a poll.
  const ns = stack.temporalNamespace;
  await vi.waitFor(async () => {
    const r = await connection.workflowService.describeTaskQueue({ namespace: ns, taskQueue: { name: taskQueue }, taskQueueType: 1 });
    if ((r.pollers ?? []).length === 0) throw new Error(`no poller on ${taskQueue} yet`);
  }, { timeout: 10_000, interval: 100 });
});

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await connection?.close();
  await db?.dropDatabase().catch(() => undefined);
  await mongo?.close();
});

describe('retail24 ingest (CLI) against the test stack', () => {
  it('when a mapped file is ingested with --json, then it exits 0 and prints the summary as one JSON line', async () => {
    const r = await cli(join(FIXTURES, 'renamed-columns.csv'), '--mapping', join(FIXTURES, 'renamed-columns.mapping.json'), '--json');

    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ fileName: 'renamed-columns.csv', read: 3, inserted: 3, rejected: 0, alreadyIngested: false });
  });

  it('when the file lacks a required column, then it exits 1 with one line naming the file and column, users untouched', async () => {
    const before = await usersSnapshot(db);

    const r = await cli(join(FIXTURES, 'missing-column.csv'));

    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^retail24 ingest: missing-column\.csv: required column "first_open" is missing[^\n]*$/);
    expect(await usersSnapshot(db)).toBe(before);
  });

  it.each([
    ['a missing file', ['/no/such.csv'], /^retail24 ingest: cannot read \/no\/such\.csv/],
    ['a mapping file that is not JSON', [join(FIXTURES, 'clean.csv'), '--mapping', join(FIXTURES, 'clean.csv')], /^retail24 ingest: mapping .*clean\.csv is not valid JSON/],
  ])('when given %s, then it exits 2 with one line', async (_what, args, message) => {
    const r = await cli(...args);

    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
