import { describe, expect, it } from 'vitest';
import { Binary, MongoNetworkError, ObjectId, type Db } from 'mongodb';
import { PredictionLog, countLoggedPredictions, loggedPredictions, segmentColumns, type ArraySegment, type PredictionDoc, type PredictionSegment } from '../../store/predictions';
import { CorruptArtifactError } from '../../common/errors';
import { packArrays } from '../../store/typed-pack';
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
    const all = (await segments().find({}).toArray()).map((doc) => ({ doc, c: segmentColumns(doc) }));
    expect(all.map((x) => x.doc.n).sort()).toEqual([201, 400, 400]);
    // the columns are one binary value, not an array element per entry (FerretDB's cost is per value)
    expect(all.every((x) => x.doc.columns instanceof Binary && !('userIds' in x.doc))).toBe(true);
    expect(all.flatMap((x) => x.c.userIds)).toEqual([...preds(0, 1000).map((p) => p.user_id), 'single']);
    const { doc: seg, c } = all.find((x) => x.c.userIds.includes('u7'))!;
    expect(seg._id).toBeInstanceOf(ObjectId);
    expect(seg).toMatchObject({ modelName: 'M', version: 3 });
    const i = c.userIds.indexOf('u7');
    expect({ p: c.probabilities[i], d: c.decisions[i], f: c.firstOpens[i] }).toEqual({ p: 7 / 10_000, d: false, f: Date.UTC(2026, 2, 1) + 7000 });
    expect(c.ats[i]).toBeGreaterThanOrEqual(seg.from.getTime());
    expect(seg.firstOpenMin).toEqual(new Date(Date.UTC(2026, 2, 1)));
    const last = all.find((x) => x.c.userIds.includes('single'))!;
    expect(last.c.firstOpens[last.c.userIds.indexOf('single')]).toBeNull();
    // the range ignores the entry without a first open
    expect(last.doc.firstOpenMax).toEqual(new Date(Date.UTC(2026, 2, 1) + 999_000));
  });

  // Ids are any string of up to 128 characters (data/validate.ts): the packed column must give
  // each back exactly, whatever its bytes; joined before encoding, a lone high surrogate ending one
  // id and a lone low one starting the next would pair up into one character and shift every
  // later boundary.
  it('user ids of any characters (multi-byte, separators, lone surrogates, the empty string) come back from the packed column one for one', async () => {
    await coll().deleteMany({});
    const ids = ['ü-1', 'a,b\nc', '\u0000', '日本語', 'x\ud800', '\udc00y', '', '😀'.repeat(30), 'z'];
    const log = new PredictionLog(db);
    log.record({ name: 'M', version: 1 }, ids.map((user_id, k) => ({ user_id, probability: k / 10, decision: k % 2 === 0 })));
    await log.flush();
    const [doc] = await segments().find({}).toArray();
    const c = segmentColumns(doc!);
    // a lone surrogate is not valid UTF-8: it is stored as U+FFFD, as a BSON string stores it
    expect(c.userIds).toEqual(ids.map((id) => Buffer.from(id, 'utf8').toString('utf8')));
    expect(Array.from(c.probabilities)).toEqual(ids.map((_, k) => k / 10));
  });

  it('segments written as arrays before the columns were packed are read as before, next to packed ones', async () => {
    await coll().deleteMany({});
    const t0 = Date.UTC(2026, 2, 1);
    const old: ArraySegment = {
      _id: new ObjectId(), modelName: 'M', version: 1, n: 2, from: new Date(t0), to: new Date(t0),
      firstOpenMin: new Date(t0 + 1000), firstOpenMax: new Date(t0 + 1000),
      userIds: ['old1', 'old2'], firstOpens: [t0 + 1000, null], probabilities: [0.5, 0.25], decisions: [true, false], ats: [t0, t0],
    };
    await db.collection<ArraySegment>(COLLECTIONS.predictions).insertOne(old);
    const log = new PredictionLog(db);
    log.record({ name: 'M', version: 1 }, preds(1, 1));
    await log.flush();
    const got = await loggedPredictions(db, { modelName: 'M', version: 1, from: t0, to: t0 + 5000 });
    expect(got.map((g) => g.userId).sort()).toEqual(['old1', 'u1']);
    expect(got.find((g) => g.userId === 'old1')).toEqual({ userId: 'old1', firstOpen: t0 + 1000, probability: 0.5, decision: true, at: t0 });
    expect(await countLoggedPredictions(db)).toBe(3);
  });

  it('a packed segment whose columns do not hold n entries each is refused as corrupt, naming the segment', async () => {
    await coll().deleteMany({});
    const log = new PredictionLog(db);
    log.record({ name: 'M', version: 1 }, preds(0, 3));
    await log.flush();
    const [doc] = await segments().find({}).toArray();
    expect(() => segmentColumns({ ...doc!, n: 4 })).toThrow(CorruptArtifactError);
    expect(() => segmentColumns({ ...doc!, n: 4 })).toThrow(`prediction segment ${String(doc!._id)}: its columns do not hold n = 4 entries each`);
    expect(() => segmentColumns({ ...doc!, columns: new Binary(Buffer.from('not a pack')) })).toThrow(CorruptArtifactError);
    // id boundaries that go backwards would cut ids silently into empty strings
    const ends = Uint32Array.from([2, 1, 6]);
    const ids = Uint8Array.from(Buffer.from('u0u1u2'));
    const c = segmentColumns(doc!);
    const backwards = packArrays({ userIdBytes: ids, userIdEnds: ends, firstOpens: Float64Array.from(c.firstOpens, (f) => f ?? Number.NaN), probabilities: Float64Array.from(c.probabilities), decisions: Uint8Array.from(c.decisions, Number), ats: Float64Array.from(c.ats) });
    expect(() => segmentColumns({ ...doc!, columns: new Binary(backwards) })).toThrow(/user id 1 ends at byte 1, before it starts \(2\)/);
  });

  it('when production moves between two flushes, the predictions of each version land in their own segment', async () => {
    await coll().deleteMany({});
    const log = new PredictionLog(db);
    log.record({ name: 'M', version: 1 }, preds(0, 3));
    log.record({ name: 'M', version: 2 }, preds(3, 2));
    log.record({ name: 'M', version: 1 }, preds(5, 1));
    await log.flush();
    const all = await segments().find({}, { sort: { from: 1 } }).toArray();
    expect(all.map((x) => [x.version, segmentColumns(x).userIds])).toEqual([[1, ['u0', 'u1', 'u2']], [2, ['u3', 'u4']], [1, ['u5']]]);
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
