import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoNetworkError, ObjectId, type Db, type MongoClient } from 'mongodb';
import { PredictionLog, type PredictionDoc } from '../../store/predictions';
import { COLLECTIONS } from '../../store/collections';
import { testStack, uniqueDbName } from '../helpers/stack';
import { openDb } from '../helpers/ingest';

let client: MongoClient;
let db: Db;
beforeAll(async () => {
  ({ client, db } = await openDb(testStack().mongoUri, uniqueDbName(import.meta.url)));
});
afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

const preds = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ user_id: `u${from + i}`, probability: (from + i) / 10_000, decision: (from + i) % 2 === 0, firstOpen: Date.UTC(2026, 2, 1) + (from + i) * 1000 }));
const coll = () => db.collection<PredictionDoc>(COLLECTIONS.predictions);

describe('PredictionLog against the MongoDB-protocol server', () => {
  it('every served prediction is written once, in batches, with its fields, its first open and an _id made by the API', async () => {
    await coll().deleteMany({});
    const log = new PredictionLog(db, { batch: 400 });
    log.record({ name: 'M', version: 3 }, preds(0, 1000));
    log.recordOne('M', 3, 'single', 0.25, false, undefined);
    await log.flush();
    expect({ written: log.written, dropped: log.dropped }).toEqual({ written: 1001, dropped: 0 });
    expect(await coll().countDocuments()).toBe(1001);
    const d = (await coll().findOne({ userId: 'u7' }))!;
    expect(d._id).toBeInstanceOf(ObjectId);
    expect(d).toMatchObject({ modelName: 'M', version: 3, probability: 7 / 10_000, decision: false, firstOpen: new Date(Date.UTC(2026, 2, 1) + 7000) });
    expect(d.at).toBeInstanceOf(Date);
    expect((await coll().findOne({ userId: 'single' }))!.firstOpen).toBeNull();
  });

  it('when the connection drops after the server wrote the batch, the retry writes nothing twice and counts every record once', async () => {
    await coll().deleteMany({});
    // the first insert reaches the server, then the reply is "lost"; the retry resends the same _ids
    let calls = 0;
    const flaky = new Proxy(db, {
      get(target, prop, recv) {
        if (prop !== 'command') return Reflect.get(target, prop, recv);
        return async (cmd: Record<string, unknown>) => {
          const res = await target.command(cmd);
          if (++calls === 1) throw new MongoNetworkError('connection reset (simulated after the write)');
          return res;
        };
      },
    });
    const errors: unknown[] = [];
    const log = new PredictionLog(flaky, { onError: (e) => errors.push(e) });
    log.record({ name: 'M', version: 1 }, preds(0, 250));
    await log.flush();
    expect(calls).toBe(2);
    expect(await coll().countDocuments()).toBe(250);
    expect({ written: log.written, dropped: log.dropped, errors: errors.length }).toEqual({ written: 250, dropped: 0, errors: 0 });
  });

  it('records the server refuses are counted as dropped and reported, the rest written', async () => {
    await coll().deleteMany({});
    const errors: { err: unknown; lost: number }[] = [];
    // a duplicate _id on a first attempt is a real refusal, not a retry's echo
    const taken = new ObjectId();
    await coll().insertOne({ _id: taken, userId: 'x', firstOpen: null, modelName: 'M', version: 1, probability: 0, decision: false, at: new Date() });
    const dupOnce = new Proxy(db, {
      get(target, prop, recv) {
        if (prop !== 'command') return Reflect.get(target, prop, recv);
        return (cmd: { documents?: PredictionDoc[] }) => {
          if (cmd.documents) cmd.documents[1]!._id = taken;
          return target.command(cmd);
        };
      },
    });
    const log = new PredictionLog(dupOnce, { onError: (err, lost) => errors.push({ err, lost }) });
    log.record({ name: 'M', version: 1 }, preds(0, 5));
    await log.flush();
    expect({ written: log.written, dropped: log.dropped }).toEqual({ written: 4, dropped: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.lost).toBe(1);
    expect(String(errors[0]!.err)).toMatch(/prediction log insert/);
    expect(await coll().countDocuments()).toBe(5);
  });
});
