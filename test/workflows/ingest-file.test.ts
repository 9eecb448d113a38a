import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../config';
import { createWorker } from '../../worker/worker';
import { ingestViaWorkflow } from '../../client/pipeline';
import { testEnv, testStack, uniqueDbName } from '../helpers/stack';
import { FIXTURES, openDb, usersSnapshot } from '../helpers/ingest';

const dbName = uniqueDbName(import.meta.url);
let mongo: MongoClient;
let db: Db;
let config: Config;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') }); // worker state chatter drowns the test output
  const stack = testStack();
  config = loadConfig(testEnv(dbName, { TASK_QUEUE: `ingest-wf-${randomBytes(4).toString('hex')}` }));
  ({ client: mongo, db } = await openDb(stack.mongoUri, dbName));
  nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  worker = await createWorker({ connection: nativeConnection, db, config });
  running = worker.run();
  connection = await Connection.connect({ address: stack.temporalAddress });
  client = new Client({ connection, namespace: stack.temporalNamespace });
});

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await nativeConnection?.close();
  await connection?.close();
  await db?.dropDatabase().catch(() => undefined);
  await mongo?.close();
});

describe('ingestFile workflow on a real worker', () => {
  it('when a clean file is ingested twice, then the first stores its users and the second changes nothing', async () => {
    const first = await ingestViaWorkflow(client, db, config, join(FIXTURES, 'clean.csv'));
    const before = await usersSnapshot(db);

    const second = await ingestViaWorkflow(client, db, config, join(FIXTURES, 'clean.csv'));

    expect(first).toMatchObject({ fileName: 'clean.csv', read: 5, inserted: 5, rejected: 0, alreadyIngested: false });
    expect(second).toEqual({ ...first, alreadyIngested: true });
    expect(await usersSnapshot(db)).toBe(before);
  });

  it('when a required column is missing, then the workflow fails on the first attempt with BadInputFile naming the column', async () => {
    const before = await usersSnapshot(db);

    const err = await ingestViaWorkflow(client, db, config, join(FIXTURES, 'missing-column.csv')).then(() => null, (e: unknown) => e);

    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    const app = (activity as ActivityFailure).cause as ApplicationFailure;
    expect(app).toBeInstanceOf(ApplicationFailure);
    expect(app).toMatchObject({ type: 'BadInputFile', nonRetryable: true });
    expect(app.message).toMatch(/^missing-column\.csv: required column "first_open"/);
    expect((activity as ActivityFailure).retryState).toBe('NON_RETRYABLE_FAILURE');
    expect(await usersSnapshot(db)).toBe(before);
  });

  it('when a mapping file renames columns, then the whole path stores the mapped users', async () => {
    const mapping = { columns: { user_id: 'user', purchase_date: 'enrolled_date' }, features: { minigame: 'binary', liked: 'binary' } };

    const s = await ingestViaWorkflow(client, db, config, join(FIXTURES, 'renamed-columns.csv'), mapping);

    expect(s).toMatchObject({ read: 3, inserted: 3, rejected: 0, alreadyIngested: false });
    expect(await db.collection('users').findOne({ _id: 'u-2' as never })).toMatchObject({ label: 0, extra: { minigame: 0, liked: 1 } });
  });
});
