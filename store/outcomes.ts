import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { bulkWriteInBatches } from './bulk';
import { loggedPredictions } from './predictions';

/** A real purchase reported back by the app (POST /v1/outcomes), one per user (first purchase wins). */
export interface OutcomeDoc {
  _id: string; // user id
  purchaseAt: Date;
  reportedAt: Date;
}

export async function recordOutcomes(db: Db, outcomes: { userId: string; purchaseAt: Date }[]): Promise<number> {
  if (outcomes.length === 0) return 0;
  const now = new Date();
  const res = await bulkWriteInBatches(
    db,
    db.collection<OutcomeDoc>(COLLECTIONS.outcomes),
    outcomes.map((o) => ({ updateOne: { filter: { _id: o.userId }, update: { $min: { purchaseAt: o.purchaseAt }, $setOnInsert: { reportedAt: now } }, upsert: true } })),
  );
  return res.upserted + res.modified;
}

const DAY_MS = 24 * 3600 * 1000;

/** The latest reported purchase time (epoch ms), or null: outcomes observe the data's time too. */
export async function latestOutcome(db: Db): Promise<number | null> {
  const o = await db.collection<OutcomeDoc>(COLLECTIONS.outcomes).find({}, { projection: { purchaseAt: 1 } }).sort({ purchaseAt: -1 }).limit(1).next();
  return o ? o.purchaseAt.getTime() : null;
}

/**
 * Matured outcomes of users a model version scored through the API but who were never ingested
 * (ingested users are labelled in `users`, from both ingest and POST /v1/outcomes). Sample: the
 * version's latest prediction per user whose first open lies in [from, to]. A reported purchase
 * inside the window is a 1. A 0 needs the window closed at the data's time `now` *and* an active
 * outcome source (some purchase reported since `from`): an app that never posts outcomes gives no
 * negatives at all, instead of "everyone is a non-buyer".
 */
export async function apiOnlyOutcomes(db: Db, q: { modelName: string; version: number; from: number; to: number; now: number; skip: ReadonlySet<string> }) {
  const latest = new Map<string, { p: number; decision: boolean; firstOpen: number; at: number }>();
  for (const d of await loggedPredictions(db, q)) {
    if (q.skip.has(d.userId)) continue;
    const seen = latest.get(d.userId);
    // the latest prediction per user; on a tie the one read first
    if (seen && seen.at >= d.at) continue;
    latest.set(d.userId, { p: d.probability, decision: d.decision, firstOpen: d.firstOpen!, at: d.at });
  }
  const outcomes = db.collection<OutcomeDoc>(COLLECTIONS.outcomes);
  const sourceActive = (await outcomes.countDocuments({ purchaseAt: { $gte: new Date(q.from) } }, { limit: 1 })) > 0;
  const bought = new Map<string, number>();
  const ids = [...latest.keys()];
  for (let i = 0; i < ids.length; i += 5000) {
    for (const o of await outcomes.find({ _id: { $in: ids.slice(i, i + 5000) } }).toArray()) bought.set(o._id, o.purchaseAt.getTime());
  }
  const y: number[] = [], p: number[] = [], decision: boolean[] = [], userIds: string[] = [];
  for (const [id, v] of latest) {
    const at = bought.get(id);
    let label: 0 | 1 | null = null;
    if (at !== undefined && at >= v.firstOpen && at - v.firstOpen <= DAY_MS) label = 1;
    else if (sourceActive && v.firstOpen + DAY_MS <= q.now) label = 0;
    if (label === null) continue;
    y.push(label);
    p.push(v.p);
    decision.push(v.decision);
    userIds.push(id);
  }
  return { userIds, y, p, decision, sourceActive, predicted: latest.size };
}
