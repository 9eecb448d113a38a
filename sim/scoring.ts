/**
 * Scores a registered model against the generator's truth: what the model really achieves on
 * users it has never seen, which no live metric can tell before their labels mature.
 */
import { Readable } from 'node:stream';
import { readUserLogs } from '../data/csv-reader';
import { transformBatch } from '../data/features';
import { GENERATED_COLUMNS } from '../data/generator';
import type { UserRecord } from '../data/record';
import { precisionAtRecall } from '../ml/compare';
import { rocAuc } from '../ml/metrics';
import type { LoadedModel } from '../store/model-loader';
import type { TruthUser } from './exports';

export interface TrueMetrics {
  version: number;
  users: number;
  positives: number;
  roc_auc: number | null;
  /** Precision at the target recall, each model at its own threshold for that recall on these users. */
  precision_at_recall: number | null;
}

/** Parses the users' uncut rows with the ingest reader: the records ingest and serving see. */
export async function recordsOf(users: readonly TruthUser[]): Promise<UserRecord[]> {
  if (users.length === 0) return [];
  const text = `${GENERATED_COLUMNS.join(',')}\n${users.map((u) => `${u.row}\n`).join('')}`;
  const out: UserRecord[] = [];
  for await (const r of readUserLogs(Readable.from([text]), { fileName: 'truth.csv', trackDuplicates: false })) {
    if (r.kind !== 'ok') throw new Error(`generated row rejected at line ${r.line}: ${r.reason} ${r.detail}`);
    out.push(r.record);
  }
  return out;
}

/** ROC AUC and precision at `targetRecall` of one model on records against their eventual labels (null when a class is missing). */
export function trueMetrics(m: LoadedModel, records: readonly UserRecord[], labels: Uint8Array, targetRecall: number): TrueMetrics {
  let positives = 0;
  for (const y of labels) positives += y;
  const base = { version: m.version, users: records.length, positives };
  if (positives === 0 || positives === records.length) return { ...base, roc_auc: null, precision_at_recall: null };
  const p = m.model.predictProba({ data: transformBatch(m.spec, records), rows: records.length, cols: m.spec.names.length });
  return { ...base, roc_auc: rocAuc(labels, p), precision_at_recall: precisionAtRecall(labels, p, targetRecall).precision };
}
