/** Names shared by workflows, worker, API and CLI. Workflow-safe: no imports. */
export const WORKFLOW_TYPES = {
  trainingPipeline: 'trainingPipeline',
  ingestFile: 'ingestFile',
  monitor: 'modelMonitor',
  scoreNewUsers: 'scoreNewUsers',
} as const;

/** Search attributes registered on the Temporal namespace (see scripts/local-stack.ts). */
export const SEARCH_ATTRIBUTES = {
  modelName: 'ModelName',
  modelVersion: 'ModelVersion',
  triggerReason: 'TriggerReason',
  outcome: 'RunOutcome',
} as const;

export const PRODUCTION_ALIAS = 'production';
export const CANDIDATE_ALIAS = 'candidate';

/** Deterministic, meaningful workflow ids: `train-<model>-<trigger>-<time>`. */
export function trainingWorkflowId(modelName: string, trigger: string, isoTime: string): string {
  return `train-${modelName}-${trigger}-${isoTime.replace(/[:.]/g, '')}`;
}

export function monitorWorkflowId(modelName: string): string {
  return `monitor-${modelName}`;
}

/** The scoring run started after ingests and promotions (one at a time per model; a busy one gets a `rescan` signal). */
export function scoreWorkflowId(modelName: string): string {
  return `score-${modelName}`;
}

/** The Temporal Schedule that scores new users at an interval (its runs get ids `score-schedule-<model>-<time>`). */
export function scoreScheduleId(modelName: string): string {
  return `score-schedule-${modelName}`;
}

/** `ingest-<database>-<sha256 prefix>[-m<mapping hash>]`: the database keeps deployments sharing a namespace apart. */
export function ingestWorkflowId(database: string, checksum: string, mappingTag = ''): string {
  return `ingest-${database}-${checksum.slice(0, 16)}${mappingTag}`;
}

/**
 * Execution timeout of every training run (CLI- or monitor-started). The default pipeline on 1M
 * users is budgeted at 15 minutes (bench/README.md); six hours means a run that still has not
 * finished is stuck, and ending it frees the monitor to start the next one.
 */
export const TRAINING_RUN_TIMEOUT = '6 hours';
