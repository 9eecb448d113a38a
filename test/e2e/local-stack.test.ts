import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection, WorkflowClient } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, PortInUseError, startLocalStack, type LocalStack } from '../../stack/local-stack';
import { testStack } from '../helpers/stack';

const root = path.resolve(import.meta.dirname, '../..');
// Services started here, not the shared test stack: TEMPORAL_ADDRESS / MONGODB_URI must be unset.
const env = { ...process.env, TEMPORAL_ADDRESS: '', MONGODB_URI: '' };

describe('startLocalStack (real Temporal dev server and MongoDB-protocol server)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retail24-stack-e2e-'));
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ root, dataDir, env, freePorts: true });
  });
  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when nothing is configured, then both services are started under the data dir', () => {
    expect(stack.started).toEqual(['temporal', expect.stringMatching(/^(ferretdb|mongod)$/)]);
    expect(fs.existsSync(path.join(dataDir, 'temporal', 'temporal.db'))).toBe(true);
    expect(fs.existsSync(stack.logs.temporal!)).toBe(true);
  });

  it('when a second stack targets the same data dir, then it is refused with a lock error', async () => {
    const err = await startLocalStack({ root, dataDir, env, freePorts: true }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DataDirLockedError);
  });

  it('when the Temporal port is taken, then start fails naming the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'retail24-stack-port-'));
    try {
      const err = await startLocalStack({ root, dataDir: other, env, temporal: { port } }).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(PortInUseError);
      expect((err as Error).message).toContain(`port ${port} (Temporal gRPC)`);
      expect(fs.existsSync(path.join(other, 'stack.lock'))).toBe(false);
    } finally {
      blocker.close();
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('when TEMPORAL_ADDRESS and MONGODB_URI are set, then it connects and starts nothing', async () => {
    const shared = testStack();

    const c = await startLocalStack({
      root,
      env: { ...process.env, TEMPORAL_ADDRESS: shared.temporalAddress, MONGODB_URI: shared.mongoUri },
    });
    await c.stop();

    expect(c.started).toEqual([]);
    expect(c.temporalAddress).toBe(shared.temporalAddress);
  });

  it('when TEMPORAL_ADDRESS points at nothing, then start fails within its bound naming the address', async () => {
    const err = await startLocalStack({
      root,
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', MONGODB_URI: testStack().mongoUri },
      startTimeoutMs: 2000,
    }).catch((e: unknown) => e);

    expect((err as Error).message).toMatch(/^Temporal at 127\.0\.0\.1:1 not reachable within 2s/);
  });

  it('when the stack is stopped and started again on the same data dir, then documents and workflows survive', async () => {
    const wfId = `persist-${Date.now()}`;
    const mongo = await new MongoClient(stack.mongoUri).connect();
    await mongo.db('persist').collection('models').insertOne({ _id: 'm1' as never, version: 3 });
    await mongo.close();
    const conn = await Connection.connect({ address: stack.temporalAddress });
    // No worker polls this queue: the workflow simply stays open, which is what must persist.
    await new WorkflowClient({ connection: conn }).start('nothing', { taskQueue: 'no-worker', workflowId: wfId });
    await conn.close();

    await stack.stop();
    stack = await startLocalStack({ root, dataDir, env, freePorts: true });

    const mongo2 = await new MongoClient(stack.mongoUri).connect();
    const doc = await mongo2.db('persist').collection('models').findOne({ _id: 'm1' as never });
    await mongo2.close();
    const conn2 = await Connection.connect({ address: stack.temporalAddress });
    const desc = await new WorkflowClient({ connection: conn2 }).getHandle(wfId).describe();
    await conn2.close();
    expect(doc).toEqual({ _id: 'm1', version: 3 });
    expect(desc.status.name).toBe('RUNNING');
  });

  it('when stopped, then the lock is gone and the ports are released', async () => {
    const port = Number(stack.temporalAddress.split(':')[1]);

    await stack.stop();

    expect(fs.existsSync(path.join(dataDir, 'stack.lock'))).toBe(false);
    const probe = net.createServer();
    await expect(new Promise<void>((ok, bad) => probe.once('error', bad).listen(port, '127.0.0.1', ok))).resolves.toBeUndefined();
    probe.close();
  });
});
