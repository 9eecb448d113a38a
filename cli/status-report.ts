import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Config } from '../config';
import { getAlias, getVersion } from '../store/registry';
import { listRuns } from '../store/runs';
import { countLabelStates } from '../store/users';
import type { PromotionRecord } from '../common/workflow-types';
import { PRODUCTION_ALIAS, monitorWorkflowId } from '../common/constants';
import type { MonitorStatus } from '../common/messages';

export interface StatusReport {
  production: {
    version: number; metrics: Record<string, number>; threshold: number; promotedAt: string; reason: string; runId: string;
    /** The gate's comparison record for this version (what it measured, on which users, how many). */
    promotion: PromotionRecord | null;
    calibration: string | null;
    leakage: { name: string; auc: number; message: string }[];
  } | null;
  /** Users by label state: only matured users train and evaluate. */
  data: { matured: number; pending: number; unlabelled: number };
  monitor: (Partial<MonitorStatus> & { state: string; lastCheck: string | null; triggers: { name: string; value: number | null; threshold: number; fired: boolean }[] }) | { state: 'not-running'; lastCheck: null; triggers: [] };
  runs: { runId: string; trigger: string; reason: string; status: string; stage: string; startedAt: string | null; version: number | null; promoted: boolean | null }[];
}

/** What `retail24 status --json` and `up --once --json` print. */
export async function statusReport(db: Db, client: Client | null, config: Config): Promise<StatusReport> {
  const name = config.MODEL_NAME;
  const alias = await getAlias(db, name, PRODUCTION_ALIAS);
  const v = alias ? await getVersion(db, name, alias.version) : null;
  const production = alias && v
    ? {
      version: v.version, metrics: v.metrics, threshold: v.threshold.threshold, promotedAt: alias.updatedAt.toISOString(), reason: alias.reason, runId: v.runId,
      promotion: v.promotion ?? null, calibration: v.calibration?.kind ?? null, leakage: v.leakage ?? [],
    }
    : null;
  const data = await countLabelStates(db);
  let monitor: StatusReport['monitor'] = { state: 'not-running', lastCheck: null, triggers: [] };
  if (client) {
    try {
      const s = await client.workflow.getHandle(monitorWorkflowId(name)).query<MonitorStatus>('status');
      monitor = s;
    } catch {
      // no monitor workflow running for this model: reported as not-running
    }
  }
  const runs = (await listRuns(db, name, 10)).map((r) => ({
    runId: r._id,
    trigger: r.trigger,
    reason: r.reason,
    status: r.status,
    stage: r.stage,
    startedAt: r.startedAt ? new Date(r.startedAt).toISOString() : null,
    version: (r.version as { version?: number } | undefined)?.version ?? null,
    promoted: (r.promotion as { promoted?: boolean } | undefined)?.promoted ?? null,
  }));
  return { production, data, monitor, runs };
}
