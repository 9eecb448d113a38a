import { Binary, type Db } from 'mongodb';

/**
 * One scoring job: its users' feature vectors, already transformed by the plan with the version's
 * spec, in one typed-array pack (store/typed-pack.ts). Measured on FerretDB 1.24: decoding 2,000
 * users as nested documents (screen arrays) cost more than the scoring itself; one binary field is
 * cheap to write and read. The `_id` is a string: FerretDB pushes `_id` equality down to SQLite
 * only for strings and ObjectIds (a numeric id made job k decode the k documents before it).
 * One collection per plan, `score_jobs.<planId>`, dropped when the plan finishes.
 */
interface ScoreJobDoc {
  _id: string;
  pack: Binary;
}

const jobKey = (job: number) => `j${job}`;
const jobs = (db: Db, planId: string) => db.collection<ScoreJobDoc>(`score_jobs.${planId}`);

/** Drops the plan's job documents (a plan starting afresh, or a finished one). */
export async function dropScoreJobs(db: Db, planId: string): Promise<void> {
  await jobs(db, planId).drop().catch(() => undefined);
}

export async function writeScoreJob(db: Db, planId: string, job: number, pack: Uint8Array): Promise<void> {
  await jobs(db, planId).insertOne({ _id: jobKey(job), pack: new Binary(pack) });
}

/** The job's pack, or null if the plan's collection no longer holds it. */
export async function readScoreJob(db: Db, planId: string, job: number): Promise<Buffer | null> {
  const doc = await jobs(db, planId).findOne({ _id: jobKey(job) });
  return doc ? Buffer.from(doc.pack.buffer.subarray(0, doc.pack.length())) : null;
}
