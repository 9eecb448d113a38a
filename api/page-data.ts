import type { Db } from 'mongodb';
import type { Client } from '@temporalio/client';
import { loadDatasetUsers } from '../store/datasets';
import { newestUsersSample } from '../store/users';
import type { ModelVersionDoc } from '../store/registry';
import { transformBatch } from '../data/features';
import { calendarLeftOut, driftLevel, psi, type DriftLevel } from '../ml/drift';
import { statusQuery, type MonitorStatus } from '../common/messages';
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
  /** Days of first opens the current sample covers, and the calendar features it cannot judge. */
  spanDays: number;
  leftOut: string[];
  minUsers: number;
  features: FeatureDrift[];
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));

function binLabels(edges: number[]): string[] {
  if (edges.length === 0) return ['all'];
  return [`≤ ${num(edges[0]!)}`, ...edges.slice(1).map((e, i) => `(${num(edges[i]!)}, ${num(e)}]`), `> ${num(edges[edges.length - 1]!)}`];
}

/**
 * PSI of every feature: the production model's snapshot histograms (reference) against the same
 * sample the monitor's drift trigger judges (store/users.ts newestUsersSample: the newest full day
 * of users outside production's training set, at least `minUsers`), built with the snapshot's
 * frozen spec. Calendar features the sample's span cannot judge get no PSI.
 */
export async function driftView(db: Db, production: ModelVersionDoc, opts: { windowDays: number; minUsers: number }): Promise<DriftView | null> {
  const loaded = await loadDatasetUsers(db, production.datasetId);
  if (!loaded) return null;
  const ds = loaded.doc;
  const { users, span } = await newestUsersSample(db, { ...opts, exclude: new Set(loaded.users.trainUserIds), limit: DRIFT_MAX_USERS });
  const rows = users.length;
  const X = rows > 0 ? transformBatch(ds.spec, users) : null;
  const cols = ds.names.length;
  const leftOut = calendarLeftOut(span);
  const features = ds.referenceHistograms.map((ref): FeatureDrift => {
    const base = { feature: ref.feature, binLabels: binLabels(ref.edges), reference: ref.proportions };
    const j = ds.names.indexOf(ref.feature);
    if (!X || j < 0 || leftOut.includes(ref.feature)) return { ...base, current: null, psi: null, level: null };
    const col = new Float64Array(rows);
    for (let i = 0; i < rows; i++) col[i] = X[i * cols + j]!;
    const r = psi(ref, col);
    return { ...base, current: r.current, psi: r.psi, level: driftLevel(r.psi) };
  });
  return { datasetId: ds._id, snapshotAt: ds.createdAt, referenceRows: ds.rows, currentRows: rows, spanDays: span / 86_400_000, leftOut, minUsers: opts.minUsers, features };
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
