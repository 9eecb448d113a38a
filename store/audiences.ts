import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import type { AudienceRule } from '../common/audience';

/** A saved audience: a named rule, evaluated against whatever version is in production. */
export interface AudienceDoc {
  _id: string; // the name
  modelName: string;
  rule: AudienceRule;
  description?: string;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

const audiences = (db: Db) => db.collection<AudienceDoc>(COLLECTIONS.audiences);

/** Creates or replaces the audience `name` of a model; returns whether it existed before. */
export async function saveAudience(db: Db, a: { name: string; modelName: string; rule: AudienceRule; description?: string; by: string }, now = new Date()): Promise<{ created: boolean }> {
  const prev = await audiences(db).findOne({ _id: a.name });
  const doc: AudienceDoc = { _id: a.name, modelName: a.modelName, rule: a.rule, ...(a.description ? { description: a.description } : {}), createdAt: prev?.createdAt ?? now, updatedAt: now, updatedBy: a.by };
  await audiences(db).replaceOne({ _id: a.name }, doc, { upsert: true });
  return { created: prev === null };
}

export async function getAudience(db: Db, name: string): Promise<AudienceDoc | null> {
  return audiences(db).findOne({ _id: name });
}

export async function listAudiences(db: Db, modelName: string): Promise<AudienceDoc[]> {
  return audiences(db).find({ modelName }).sort({ _id: 1 }).limit(500).toArray();
}

export async function deleteAudience(db: Db, name: string): Promise<boolean> {
  return (await audiences(db).deleteOne({ _id: name })).deletedCount === 1;
}
