import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { bulkWriteInBatches } from './bulk';

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
    db.collection<OutcomeDoc>(COLLECTIONS.outcomes),
    outcomes.map((o) => ({ updateOne: { filter: { _id: o.userId }, update: { $min: { purchaseAt: o.purchaseAt }, $setOnInsert: { reportedAt: now } }, upsert: true } })),
  );
  return res.upserted + res.modified;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Live confusion counts of one model version: its logged decisions against real outcomes.
 * A user is labelled once known: a purchase within 24 h of first open is a 1; no purchase
 * and the 24 h window closed (by `now`) is a 0; otherwise the user is not yet labelled.
 */
export async function liveConfusion(db: Db, modelName: string, version: number, now: Date, limit = 100_000) {
  const preds = await db
    .collection(COLLECTIONS.predictions)
    .find({ modelName, version, firstOpen: { $ne: null } }, { projection: { userId: 1, decision: 1, firstOpen: 1 } })
    .sort({ at: -1 })
    .limit(limit)
    .toArray();
  const latest = new Map<string, { decision: boolean; firstOpen: number }>();
  for (const p of preds) if (!latest.has(p.userId)) latest.set(p.userId, { decision: p.decision, firstOpen: new Date(p.firstOpen).getTime() });
  const outcomes = new Map<string, number>();
  const ids = [...latest.keys()];
  for (let i = 0; i < ids.length; i += 5000) {
    for (const o of await db.collection<OutcomeDoc>(COLLECTIONS.outcomes).find({ _id: { $in: ids.slice(i, i + 5000) } }).toArray()) outcomes.set(o._id, o.purchaseAt.getTime());
  }
  const c = { tp: 0, fp: 0, tn: 0, fn: 0, labelled: 0 };
  for (const [id, p] of latest) {
    const at = outcomes.get(id);
    let label: 0 | 1 | null;
    if (at !== undefined && at - p.firstOpen >= 0 && at - p.firstOpen <= DAY_MS) label = 1;
    else if (now.getTime() - p.firstOpen > DAY_MS) label = 0;
    else label = null;
    if (label === null) continue;
    c.labelled++;
    if (p.decision && label) c.tp++;
    else if (p.decision) c.fp++;
    else if (label) c.fn++;
    else c.tn++;
  }
  return c;
}
