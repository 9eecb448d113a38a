import type { Db } from 'mongodb';
import type { Client } from '@temporalio/client';
import { COLLECTIONS } from '../store/collections';
import { getDatasetDoc } from '../store/datasets';
import { docToRecord, type UserDoc } from '../store/users';
import type { ModelVersionDoc } from '../store/registry';
import { transformBatch } from '../data/features';
import { driftLevel, psi, type DriftLevel } from '../ml/drift';
import { statusQuery, type MonitorStatus } from '../workflows/messages';
import { monitorWorkflowId } from '../common/constants';
import { withTimeout } from '../common/timeout';

/** Most recent users the drift page bins; enough for stable proportions, bounded page cost. */
export const DRIFT_MAX_USERS = 50_000;

export interface FeatureDrift {
  feature: string;
  binLabels: string[];
  reference: number[];
  current: number[] | null;
  psi: number | null;
  level: DriftLevel | null;
}

export interface DriftView {
  datasetId: string;
  snapshotAt: Date;
  referenceRows: number;
  currentRows: number;
  features: FeatureDrift[];
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));

function binLabels(edges: number[]): string[] {
  if (edges.length === 0) return ['all'];
  return [`≤ ${num(edges[0]!)}`, ...edges.slice(1).map((e, i) => `(${num(edges[i]!)}, ${num(e)}]`), `> ${num(edges[edges.length - 1]!)}`];
}

/**
 * PSI of every feature: the production model's snapshot histograms (reference) against the users
 * ingested after that snapshot was taken (current), built with the snapshot's frozen spec.
 */
export async function driftView(db: Db, production: ModelVersionDoc): Promise<DriftView | null> {
  const ds = await getDatasetDoc(db, production.datasetId);
  if (!ds) return null;
  const docs = await db.collection<UserDoc>(COLLECTIONS.users).find({ ingestedAt: { $gt: ds.createdAt } }).sort({ ingestedAt: -1 }).limit(DRIFT_MAX_USERS).toArray();
  const rows = docs.length;
  const X = rows > 0 ? transformBatch(ds.spec, docs.map(docToRecord)) : null;
  const cols = ds.names.length;
  const features = ds.referenceHistograms.map((ref): FeatureDrift => {
    const base = { feature: ref.feature, binLabels: binLabels(ref.edges), reference: ref.proportions };
    const j = ds.names.indexOf(ref.feature);
    if (!X || j < 0) return { ...base, current: null, psi: null, level: null };
    const col = new Float64Array(rows);
    for (let i = 0; i < rows; i++) col[i] = X[i * cols + j]!;
    const r = psi(ref, col);
    return { ...base, current: r.current, psi: r.psi, level: driftLevel(r.psi) };
  });
  return { datasetId: ds._id, snapshotAt: ds.createdAt, referenceRows: ds.rows, currentRows: rows, features };
}

/** The monitor's status query, or why it is unavailable (bounded: a query waits for a worker). */
export async function monitorStatus(temporal: Client | null | undefined, modelName: string): Promise<{ status: MonitorStatus | null; error: string | null }> {
  if (!temporal) return { status: null, error: 'no Temporal connection from this API process' };
  try {
    const status = await withTimeout(temporal.workflow.getHandle(monitorWorkflowId(modelName)).query(statusQuery), 3000, 'the monitor did not answer within 3 s (is a worker running?)');
    return { status, error: null };
  } catch (err) {
    const e = err as Error;
    const msg = e.name === 'WorkflowNotFoundError' ? `no monitor workflow ${monitorWorkflowId(modelName)} is running (retail24 up starts it)` : e.message.split('\n')[0]!;
    return { status: null, error: msg };
  }
}
