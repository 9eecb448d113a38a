import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PipelineProgress, ScoreSummary } from './workflow-types';
import type { MonitorPolicy, TriggerName } from './monitor-policy';

/** Training pipeline: where the run is (stage, cells done / total, best so far). */
export const progressQuery = defineQuery<PipelineProgress>('progress');

export interface RetrainRequest {
  reason: string;
  requestedBy?: string;
}

export type { MonitorPolicy } from './monitor-policy';

export interface TriggerState {
  name: TriggerName;
  value: number | null;
  threshold: number;
  fired: boolean;
  /** How many users the value was measured on (null when nothing was measured). */
  n: number | null;
  /** What it measured besides the value (live precision, recall, ROC AUC, calibration; PSI per feature). */
  measured?: Record<string, number>;
  detail: string;
}

export interface MonitorStatus {
  state: 'idle' | 'checking' | 'retraining' | 'paused';
  modelName: string;
  lastCheck: string | null;
  triggers: TriggerState[];
  currentRun: string | null;
  history: { at: string; trigger: string; reason: string; runId: string | null; started: boolean; note: string }[];
  policy: MonitorPolicy;
  checks: number;
}

/** Monitor: ops ask for a retrain (fire-and-forget). */
export const requestRetrainSignal = defineSignal<[RetrainRequest]>('requestRetrain');
/** Monitor: ask for an immediate check (the ingest CLI sends it after new data). */
export const checkNowSignal = defineSignal<[]>('checkNow');
/** Monitor: change thresholds / interval / pause; validated, answers the policy in force. */
export const setPolicyUpdate = defineUpdate<MonitorPolicy, [Partial<MonitorPolicy>]>('setPolicy');
/** Monitor: the dashboard's view. */
export const statusQuery = defineQuery<MonitorStatus>('status');

/** scoreNewUsers: score again when the current pass ends (an ingest or promotion arrived during it). */
export const rescanSignal = defineSignal<[string]>('rescan');
/** scoreNewUsers: where the run is. */
export const scoringProgressQuery = defineQuery<ScoreSummary & { stage: 'planning' | 'scoring' | 'done'; jobsDone: number }>('scoringProgress');
