import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { serverProfile } from './server';
import { insertManyIgnoringDuplicates } from './bulk';

/**
 * One user's score by one model version (what `scoreNewUsers` writes). Idempotent by
 * (model, version, user): the `_id` is built from the three, so a retried chunk's insert of a
 * score already written is refused by the unique index and nothing is re-written.
 */
export interface ScoreDoc {
  _id: string;
  modelName: string;
  version: number;
  userId: string;
  /** Calibrated P(purchase within 24 h of first open). */
  probability: number;
  /** Rank among the version's holdout scores, 0–100 (null for versions without them). */
  percentile: number | null;
  /** The version's own decision (its threshold for the target recall). */
  decision: boolean;
  /** Membership under each saved audience at scoring time (audience name → member). */
  audiences: Record<string, boolean>;
  firstOpen: number;
  /** first_open + 24 h: after this a campaign can no longer reach the user inside the window. */
  windowClosesAt: number;
  scoredAt: Date;
}

export function scoreId(modelName: string, version: number, userId: string): string {
  return `${modelName}\u0000${version}\u0000${userId}`;
}

/** Inserts scores, skipping those already written (same model, version, user); returns how many were new. */
export async function insertScores(db: Db, docs: readonly ScoreDoc[]): Promise<number> {
  return (await insertManyIgnoringDuplicates(db.collection<ScoreDoc>(COLLECTIONS.scores), docs)).inserted;
}

/**
 * Which users the model's versions have scored, in one streamed read of its scores: `scored` maps
 * each scored user to whether `version` is among its scorers (one map, not two sets: a million
 * users fit a worker's heap); `probabilities` are `version`'s.
 */
export async function scoredUsers(db: Db, modelName: string, version: number): Promise<{ scored: Map<string, boolean>; probabilities: Float64Array }> {
  const scored = new Map<string, boolean>();
  let p = new Float64Array(1024);
  let n = 0;
  const cursor = db.collection<ScoreDoc>(COLLECTIONS.scores).find({ modelName }, { projection: { _id: 0, userId: 1, version: 1, probability: 1 } });
  for await (const s of cursor) {
    const mine = s.version === version;
    if (mine || !scored.has(s.userId)) scored.set(s.userId, mine || scored.get(s.userId) === true);
    if (mine) {
      if (n === p.length) {
        const q = new Float64Array(p.length * 2);
        q.set(p);
        p = q;
      }
      p[n++] = s.probability;
    }
  }
  return { scored, probabilities: p.slice(0, n) };
}

/** Every calibrated probability the version has written (for audience curves), unsorted. */
export async function versionProbabilities(db: Db, modelName: string, version: number, opts: { openAt?: number } = {}): Promise<Float64Array> {
  const filter: Record<string, unknown> = { modelName, version };
  if (opts.openAt !== undefined) filter.windowClosesAt = { $gt: opts.openAt };
  const out: number[] = [];
  for await (const s of db.collection<ScoreDoc>(COLLECTIONS.scores).find(filter, { projection: { _id: 0, probability: 1 } })) out.push(s.probability);
  return Float64Array.from(out);
}

/**
 * How many scores the version has written. On FerretDB through the `count` command: the driver's
 * `countDocuments` is an aggregation whose `$group` FerretDB 1.24 answers by holding every matching
 * document in its own memory (200,000 scores: 740 MB, against 17 MB for `count`, measured).
 */
export async function countScores(db: Db, modelName: string, version: number): Promise<number> {
  const filter = { modelName, version };
  if ((await serverProfile(db)).kind === 'ferretdb') return Number((await db.command({ count: COLLECTIONS.scores, query: filter })).n);
  return db.collection<ScoreDoc>(COLLECTIONS.scores).countDocuments(filter);
}

/**
 * The version's scores with probability ≥ `minProbability`, in storage order (no sort: FerretDB
 * sorts a whole result in its own memory, 823 MB for 200k scores, so an export of every member
 * would not be bounded there). The caller decides membership and order.
 */
export function scoresAtLeast(db: Db, q: { modelName: string; version: number; minProbability: number }) {
  return db.collection<ScoreDoc>(COLLECTIONS.scores)
    .find({ modelName: q.modelName, version: q.version, probability: { $gte: q.minProbability } }, { projection: { _id: 0, userId: 1, probability: 1, percentile: 1, firstOpen: 1, windowClosesAt: 1, scoredAt: 1 } });
}

/**
 * Members of saved audiences among users whose first open lies in each window ([from, to), epoch
 * ms): `result[name][w]` lists the members in window w, by each user's latest scored version.
 * One pass over the scores of the windows' span for every audience and window at once: on
 * FerretDB a filtered find reads the whole collection, so a pass per audience and window (what
 * GET /v1/audiences did) multiplied that by 2 × the number of saved audiences.
 */
export async function audienceMembersByWindow(db: Db, q: { modelName: string; names: readonly string[]; windows: readonly { from: number; to: number }[]; limit?: number }): Promise<Record<string, string[][]>> {
  const out: Record<string, string[][]> = Object.fromEntries(q.names.map((n) => [n, q.windows.map(() => [])]));
  if (q.names.length === 0 || q.windows.length === 0) return out;
  const from = Math.min(...q.windows.map((w) => w.from));
  const to = Math.max(...q.windows.map((w) => w.to));
  const latest = new Map<string, { version: number; firstOpen: number; audiences: Record<string, boolean> }>();
  const projection = { _id: 0, userId: 1, version: 1, firstOpen: 1, ...Object.fromEntries(q.names.map((n) => [`audiences.${n}`, 1])) };
  const cursor = db.collection<ScoreDoc>(COLLECTIONS.scores)
    .find({ modelName: q.modelName, firstOpen: { $gte: from, $lt: to } }, { projection })
    .limit(q.limit ?? 1_000_000);
  for await (const s of cursor) {
    const prev = latest.get(s.userId);
    if (!prev || s.version > prev.version) latest.set(s.userId, { version: s.version, firstOpen: s.firstOpen, audiences: s.audiences ?? {} });
  }
  for (const [id, v] of latest) {
    q.windows.forEach((w, i) => {
      if (v.firstOpen < w.from || v.firstOpen >= w.to) return;
      for (const n of q.names) if (v.audiences[n] === true) out[n]![i]!.push(id);
    });
  }
  return out;
}
