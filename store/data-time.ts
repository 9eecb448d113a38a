import type { Db } from 'mongodb';
import { latestObservation } from './batches';
import { latestOutcome } from './outcomes';
import { latestFirstOpen } from './users';

/** The latest observation of any finished batch or reported purchase (epoch ms), null before either. */
export async function observationTime(db: Db): Promise<number | null> {
  const [batch, outcome] = await Promise.all([latestObservation(db), latestOutcome(db)]);
  if (batch === null && outcome === null) return null;
  return Math.max(batch ?? Number.NEGATIVE_INFINITY, outcome ?? Number.NEGATIVE_INFINITY);
}

/**
 * The data's own "now" (epoch ms): the latest observation of any finished batch or reported
 * purchase; before any batch recorded one, the newest first open. Null only for an empty
 * database. Maturity, open windows and "today" are measured against it, never the wall clock.
 */
export async function dataTime(db: Db): Promise<number | null> {
  return (await observationTime(db)) ?? latestFirstOpen(db);
}
