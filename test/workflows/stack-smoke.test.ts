import { Connection, WorkflowClient } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../common/constants';
import { testStack, uniqueDbName } from '../helpers/stack';

describe('test stack (store smoke test)', () => {
  const stack = testStack();
  const dbName = uniqueDbName(import.meta.url);
  let mongo: MongoClient;
  let connection: Connection;

  beforeAll(async () => {
    mongo = await new MongoClient(stack.mongoUri, { serverSelectionTimeoutMS: 10_000 }).connect();
    connection = await Connection.connect({ address: stack.temporalAddress });
  });

  afterAll(async () => {
    await mongo?.db(dbName).dropDatabase().catch(() => undefined);
    await mongo?.close();
    await connection?.close();
  });

  it('when a document is written, then it reads back equal from the MongoDB-protocol server', async () => {
    const coll = mongo.db(dbName).collection<{ _id: string; n: number; tags: string[] }>('smoke');
    await coll.insertOne({ _id: 'u1', n: 42, tags: ['cart', 'shop'] });

    const found = await coll.findOne({ _id: 'u1' });

    expect(found).toEqual({ _id: 'u1', n: 42, tags: ['cart', 'shop'] });
  });

  it('when an upsert repeats, then one document exists (idempotent activities rely on it)', async () => {
    const coll = mongo.db(dbName).collection<{ _id: string; v: number }>('upserts');

    await coll.updateOne({ _id: 'k' }, { $set: { v: 1 } }, { upsert: true });
    await coll.updateOne({ _id: 'k' }, { $set: { v: 2 } }, { upsert: true });

    expect(await coll.find().toArray()).toEqual([{ _id: 'k', v: 2 }]);
  });

  it('when Temporal is asked for its namespace, then the test namespace exists', async () => {
    const ns = await connection.workflowService.describeNamespace({ namespace: stack.temporalNamespace });

    expect(ns.namespaceInfo?.name).toBe(stack.temporalNamespace);
  });

  it('when search attributes are listed, then every attribute the workflows set is registered', async () => {
    const res = await connection.operatorService.listSearchAttributes({ namespace: stack.temporalNamespace });

    expect(Object.keys(res.customAttributes ?? {})).toEqual(expect.arrayContaining(Object.values(SEARCH_ATTRIBUTES)));
  });

  it('when workflows are listed by a search attribute, then the visibility store accepts the query', async () => {
    const client = new WorkflowClient({ connection, namespace: stack.temporalNamespace });
    const ids: string[] = [];

    for await (const wf of client.list({ query: `${SEARCH_ATTRIBUTES.modelName} = "no-such-model"` })) ids.push(wf.workflowId);

    expect(ids).toEqual([]);
  });
});
