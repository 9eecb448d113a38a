import type { Db } from 'mongodb';
import { getBlob } from './blobs';
import { BUCKETS } from './collections';
import { getAlias, getVersion, type ModelVersionDoc } from './registry';
import { deserializeModel } from '../ml/serialize';
import type { ProbabilisticModel } from '../ml/engines';
import { assertSpec, type FeatureSpec } from '../data/features';

export interface LoadedModel {
  modelName: string;
  version: number;
  threshold: number;
  spec: FeatureSpec;
  model: ProbabilisticModel;
  doc: ModelVersionDoc;
  loadMs: number;
}

/** Loads one version's blob (checksum verified against the registry) and deserialises it. */
export async function loadVersion(db: Db, modelName: string, version: number): Promise<LoadedModel | null> {
  const doc = await getVersion(db, modelName, version);
  if (!doc) return null;
  const t0 = performance.now();
  const buf = await getBlob(db, BUCKETS.models, doc.blob.id, doc.blob.sha256);
  const { model, featureSpec } = deserializeModel(buf);
  return { modelName, version, threshold: doc.threshold.threshold, spec: assertSpec(featureSpec), model, doc, loadMs: performance.now() - t0 };
}

/** Loads whatever version an alias points at, or null when the alias is not set. */
export async function loadAlias(db: Db, modelName: string, alias: string): Promise<LoadedModel | null> {
  const a = await getAlias(db, modelName, alias);
  return a ? loadVersion(db, modelName, a.version) : null;
}
