import { Binary, type Db } from 'mongodb';
import { binaryBytes } from './blobs';

/**
 * One scoring job: its users' feature vectors, already transformed by the plan with the version's
 * spec, in one typed-array pack (store/typed-pack.ts). Measured on FerretDB 1.24: decoding 2,000
 * users as nested documents (screen arrays) cost more than the scoring itself; one binary field is
 * cheap to write and read. The `_id` is a string: FerretDB pushes `_id` equality down to SQLite
 * only for strings and ObjectIds (a numeric id made job k decode the k documents before it).
 * One collection per plan, `score_jobs.<planId>`, dropped when the plan finishes; a plan whose
 * workflow failed for good leaves its collection, which the next plan sweeps (sweepScoreJobs).
 */
interface ScoreJobDoc {
  _id: string;
  pack?: Binary;
  /** The plan's marker document (`_id` "meta"), written before any job. */
  createdAt?: Date;
}

const PREFIX = 'score_jobs.';
const META = 'meta';
/**
 * A plan's collection older than this is an orphan. A live plan's jobs take minutes (scoreJob's
 * start-to-close is 60 min); and sweeping a live plan loses nothing: a job that finds its document
 * gone reports `missing`, and the workflow plans again.
 */
export const ORPHAN_PLAN_MS = 24 * 3_600_000;

const jobKey = (job: number) => `j${job}`;
const jobs = (db: Db, planId: string) => db.collection<ScoreJobDoc>(`score_jobs.${planId}`);

/** Drops the plan's job documents (a plan starting afresh, or a finished one). */
export async function dropScoreJobs(db: Db, planId: string): Promise<void> {
  await jobs(db, planId).drop().catch(() => undefined);
}

/** Marks the plan's collection with its creation time (before its first job). */
export async function startScoreJobs(db: Db, planId: string, at = new Date()): Promise<void> {
  await jobs(db, planId).insertOne({ _id: META, createdAt: at });
}

/**
 * Drops every other plan's job collection created more than `olderThanMs` ago, or with no marker
 * (written before markers existed). Returns the dropped plan ids.
 */
export async function sweepScoreJobs(db: Db, opts: { keep: string; now?: number; olderThanMs?: number }): Promise<string[]> {
  const now = opts.now ?? Date.now();
  const limit = opts.olderThanMs ?? ORPHAN_PLAN_MS;
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith(PREFIX));
  const dropped: string[] = [];
  for (const name of names) {
    const planId = name.slice(PREFIX.length);
    if (planId === opts.keep) continue;
    const meta = await jobs(db, planId).findOne({ _id: META });
    if (meta?.createdAt && now - meta.createdAt.getTime() < limit) continue;
    await dropScoreJobs(db, planId);
    dropped.push(planId);
  }
  return dropped;
}

export async function writeScoreJob(db: Db, planId: string, job: number, pack: Uint8Array): Promise<void> {
  await jobs(db, planId).insertOne({ _id: jobKey(job), pack: new Binary(pack) });
}

/** The job's pack, or null if the plan's collection no longer holds it. */
export async function readScoreJob(db: Db, planId: string, job: number): Promise<Buffer | null> {
  const doc = await jobs(db, planId).findOne({ _id: jobKey(job) });
  return doc?.pack ? binaryBytes(doc.pack) : null;
}
