import { describe, expect, it } from 'vitest';
import { MongoNetworkError, ObjectId, type Db } from 'mongodb';
import { PredictionLog, countLoggedPredictions, loggedPredictions, type PredictionDoc, type PredictionSegment } from '../../store/predictions';
import { COLLECTIONS } from '../../store/collections';
import { useFileDb } from '../helpers/ingest';

let db: Db;
useFileDb(import.meta.url, (d) => { db = d; });

const preds = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ user_id: `u${from + i}`, probability: (from + i) / 10_000, decision: (from + i) % 2 === 0, firstOpen: Date.UTC(2026, 2, 1) + (from + i) * 1000 }));
const coll = () => db.collection<PredictionDoc>(COLLECTIONS.predictions);
const segments = () => db.collection<PredictionSegment>(COLLECTIONS.predictions);

describe('PredictionLog against the MongoDB-protocol server', () => {
  it('every served prediction is written once, in segments of one version, with its fields, its first open and an _id made by the API', async () => {
    await coll().deleteMany({});
    const log = new PredictionLog(db, { batch: 400 });
    log.record({ name: 'M', version: 3 }, preds(0, 1000));
    log.recordOne('M', 3, 'single', 0.25, false, undefined);
    await log.flush();
    expect({ written: log.written, dropped: log.dropped }).toEqual({ written: 1001, dropped: 0 });
    // 400 + 400 + 201 predictions: three segments, every prediction counted once
    expect(await coll().countDocuments()).toBe(3);
    expect(await countLoggedPredictions(db)).toBe(1001);
    const all = await segments().find({}).toArray();
    expect(all.map((x) => x.n).sort()).toEqual([201, 400, 400]);
    const seg = all.find((x) => x.userIds.includes('u7'))!;
    expect(seg._id).toBeInstanceOf(ObjectId);
    expect(seg).toMatchObject({ modelName: 'M', version: 3 });
    const i = seg.userIds.indexOf('u7');
    expect({ p: seg.probabilities[i], d: seg.decisions[i], f: seg.firstOpens[i] }).toEqual({ p: 7 / 10_000, d: false, f: Date.UTC(2026, 2, 1) + 7000 });
    expect(seg.ats[i]).toBeGreaterThanOrEqual(seg.from.getTime());
    expect(seg.firstOpenMin).toEqual(new Date(Date.UTC(2026, 2, 1)));
    const last = all.find((x) => x.userIds.includes('single'))!;
    expect(last.firstOpens[last.userIds.indexOf('single')]).toBeNull();
    // the range ignores the entry without a first open
    expect(last.firstOpenMax).toEqual(new Date(Date.UTC(2026, 2, 1) + 999_000));
  });

  it('when production moves between two flushes, the predictions of each version land in their own segment', async () => {
    await coll().deleteMany({});
    const log = new PredictionLog(db);
    log.record({ name: 'M', version: 1 }, preds(0, 3));
    log.record({ name: 'M', version: 2 }, preds(3, 2));
    log.record({ name: 'M', version: 1 }, preds(5, 1));
    await log.flush();
    const all = await segments().find({}, { sort: { from: 1 } }).toArray();
    expect(all.map((x) => [x.version, x.userIds])).toEqual([[1, ['u0', 'u1', 'u2']], [2, ['u3', 'u4']], [1, ['u5']]]);
    expect(log.written).toBe(6);
  });

  it('the reader of a first-open window gets the entries inside it from segments and from first-round documents alike', async () => {
    await coll().deleteMany({});
    const t0 = Date.UTC(2026, 2, 1);
    // a first-round document (one per prediction) for u1, inside the window
    await coll().insertOne({ _id: new ObjectId(), userId: 'u1', firstOpen: new Date(t0 + 1000), modelName: 'M', version: 1, probability: 0.5, decision: true, at: new Date(t0) });
    const log = new PredictionLog(db);
    // one segment spanning the window's edge: u0 before it, u1..u3 inside, u4 after it
    log.record({ name: 'M', version: 1 }, preds(0, 5));
    log.record({ name: 'M', version: 2 }, preds(1, 1));
    await log.flush();
    const got = await loggedPredictions(db, { modelName: 'M', version: 1, from: t0 + 1000, to: t0 + 3000 });
    expect(got.map((g) => g.userId).sort()).toEqual(['u1', 'u1', 'u2', 'u3']);
    expect(got.find((g) => g.userId === 'u1' && g.probability === 0.5)).toMatchObject({ firstOpen: t0 + 1000, decision: true, at: t0 });
    expect(got.find((g) => g.userId === 'u2')).toMatchObject({ probability: 2 / 10_000, decision: true, firstOpen: t0 + 2000 });
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
    expect(await coll().countDocuments()).toBe(1);
    expect(await countLoggedPredictions(db)).toBe(250);
    expect({ written: log.written, dropped: log.dropped, errors: errors.length }).toEqual({ written: 250, dropped: 0, errors: 0 });
  });

  it('a segment the server refuses is counted as dropped and reported, the rest written', async () => {
    await coll().deleteMany({});
    const errors: { err: unknown; lost: number }[] = [];
    // a duplicate _id on a first attempt is a real refusal, not a retry's echo
    const taken = new ObjectId();
    await coll().insertOne({ _id: taken, userId: 'x', firstOpen: null, modelName: 'M', version: 1, probability: 0, decision: false, at: new Date() });
    const dupOnce = new Proxy(db, {
      get(target, prop, recv) {
        if (prop !== 'command') return Reflect.get(target, prop, recv);
        return (cmd: { documents?: PredictionSegment[] }) => {
          if (cmd.documents) cmd.documents[1]!._id = taken;
          return target.command(cmd);
        };
      },
    });
    const log = new PredictionLog(dupOnce, { onError: (err, lost) => errors.push({ err, lost }) });
    // two versions: two segments in one command, the second refused
    log.record({ name: 'M', version: 1 }, preds(0, 3));
    log.record({ name: 'M', version: 2 }, preds(3, 2));
    await log.flush();
    expect({ written: log.written, dropped: log.dropped }).toEqual({ written: 3, dropped: 2 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.lost).toBe(2);
    expect(String(errors[0]!.err)).toMatch(/prediction log insert/);
    // the first-round document plus the written segment's three
    expect(await countLoggedPredictions(db)).toBe(4);
  });
});
