import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config';
import { createIngestActivities } from '../../activities/ingest';
import { generateToFiles } from '../../data/generator';
import { uploadFile } from '../../store/uploads';
import { getBatch } from '../../store/batches';
import { COLLECTIONS } from '../../store/collections';
import { WORKFLOW_TYPES } from '../../common/constants';
import type { IngestSummary } from '../../common/workflow-types';
import { testEnv, testStack, uniqueDbName } from '../helpers/stack';
import { openDb, userHashes } from '../helpers/ingest';

// The smallest file that still proves the property: the writing pass lasts 6 chunks of 2,000
// (activities/ingest.ts CHUNK_ROWS), so a kill a third of the way in has 2 chunks behind it and 4
// ahead (the assertions below check it landed mid-write). 150,000 and then 40,000 users proved
// nothing more and cost ~100 s and ~60 s of the suite.
const USERS = 12_000;
const KILL_AT_LINE = Math.round(USERS / 3);
const BIN = fileURLToPath(new URL('../../bin/retail24.mjs', import.meta.url));
const crashedDb = uniqueDbName('ingest-crash-killed');
const referenceDb = uniqueDbName('ingest-crash-reference');
const taskQueue = `ingest-crash-${randomBytes(4).toString('hex')}`;
const tmp = mkdtempSync(join(tmpdir(), 'retail24-crash-'));
const csvPath = join(tmp, 'users.csv');
const workers: ChildProcess[] = [];
let mongo: MongoClient[] = [];
let crashed: Db;
let reference: Db;
let connection: Connection;
let client: Client;

/** `retail24 worker` as its own OS process, resolved once it polls the task queue. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker'], { env: testEnv(crashedDb, { TASK_QUEUE: taskQueue }), stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(child);
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('polling task queue')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before polling: ${out.slice(-500)}`)));
  });
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  return vi.waitFor(async () => {
    const v = await probe();
    if (v === null) throw new Error(`timed out waiting for ${what}`);
    return v;
  }, { timeout: timeoutMs, interval: 200 });
}

beforeAll(async () => {
  const stack = testStack();
  await generateToFiles({ users: USERS, seed: 11, out: csvPath });
  const a = await openDb(stack.mongoUri, crashedDb);
  const b = await openDb(stack.mongoUri, referenceDb);
  mongo = [a.client, b.client];
  crashed = a.db;
  reference = b.db;
  connection = await Connection.connect({ address: stack.temporalAddress });
  client = new Client({ connection, namespace: stack.temporalNamespace });
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  await Promise.all(workers.filter((w) => w.exitCode === null && w.signalCode === null).map((w) => once(w, 'exit')));
  await connection?.close();
  await crashed?.dropDatabase().catch(() => undefined);
  await reference?.dropDatabase().catch(() => undefined);
  await Promise.all(mongo.map((m) => m.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('ingest survives a killed worker', () => {
  it('when the worker process is SIGKILLed mid-write and another takes over, then users and counts equal an uninterrupted ingest', async () => {
    const first = await startWorkerProcess();
    const up = await uploadFile(crashed, csvPath);
    const handle = await client.workflow.start(WORKFLOW_TYPES.ingestFile, {
      taskQueue, workflowId: `ingest-crash-${up.uploadId.slice(0, 12)}-${Date.now()}`,
      args: [{ uploadId: up.uploadId, fileName: up.fileName, rejectLimit: 0.05 }],
    });
    // A third of the way through the writing pass: chunks behind, many chunks ahead.
    const killedAt = await waitFor(`the writing pass to pass line ${KILL_AT_LINE}`, async () => {
      const b = await getBatch(crashed, up.uploadId);
      return b?.progress.phase === 'writing' && b.progress.linesDone >= KILL_AT_LINE ? b.progress.linesDone : null;
    }, 240_000);
    first.kill('SIGKILL');
    await once(first, 'exit');
    const usersAtKill = await crashed.collection(COLLECTIONS.users).countDocuments();
    await startWorkerProcess();

    const summary: IngestSummary = await handle.result();
    const refUp = await uploadFile(reference, csvPath);
    const expected = await new MockActivityEnvironment().run(
      createIngestActivities({ db: reference, config: loadConfig(testEnv(referenceDb)), workerIdentity: 'reference' }).ingestUpload,
      { uploadId: refUp.uploadId, fileName: refUp.fileName, rejectLimit: 0.05 },
    );
    const history = await handle.fetchHistory();
    process.stderr.write(`[ingest-crash] killed at line ${killedAt} with ${usersAtKill} users stored; summary ${JSON.stringify(summary)}\n`);
    const attempts = history.events!.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));

    expect(usersAtKill).toBeGreaterThan(0);
    expect(usersAtKill).toBeLessThan(USERS); // killed mid-write, not after
    expect(killedAt).toBeLessThan(USERS + 1);
    expect(attempts).toEqual([2]); // Temporal retried the activity once, on the second worker
    expect(summary).toEqual(expected);
    expect(summary).toMatchObject({ read: USERS, inserted: USERS, updated: 0, unchanged: 0, rejected: 0, superseded: 0 });
    expect(await userHashes(crashed)).toEqual(await userHashes(reference));
  }, 600_000);
});
