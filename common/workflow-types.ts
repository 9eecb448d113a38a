/**
 * Workflow-safe types: inputs, outputs and small summaries that travel through Temporal.
 * Only ids and small numbers go here, never rows or models (2 MB payload limit).
 */
export const TRIGGERS = {
  manual: 'manual',
  up: 'up',
  newData: 'new-data',
  degradation: 'degradation',
  drift: 'drift',
  ops: 'ops',
} as const;
export type Trigger = (typeof TRIGGERS)[keyof typeof TRIGGERS];

export type GridValue = number | string | null;
export type ParamGrid = Record<string, GridValue[]>;
export type Params = Record<string, GridValue>;

export interface TrainingSettings {
  modelName: string;
  engine: 'retail24' | 'ml-random-forest';
  paramGrid: ParamGrid;
  folds: number;
  scoring: 'recall' | 'f1' | 'roc_auc' | 'average_precision';
  targetRecall: number;
  classWeight: 'none' | 'balanced';
  splitStrategy: 'stratified' | 'time';
  holdoutFraction: number;
  seed: number;
  gridConcurrency: number;
  promotionF1Tolerance: number;
  promotionMinAuc: number;
}

export interface IngestRequest {
  /** GridFS id (sha256 of the bytes) of an uploaded CSV. */
  uploadId: string;
  fileName: string;
  mapping?: unknown;
  rejectLimit: number;
}

export interface IngestSummary {
  batchId: string;
  fileName: string;
  bytes: number;
  checksum: string;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  superseded: number;
  rejected: number;
  alreadyIngested: boolean;
}

export interface TrainingPipelineInput {
  settings: TrainingSettings;
  trigger: Trigger;
  reason: string;
  requestedBy?: string;
  ingest?: IngestRequest;
}

export interface SnapshotSummary {
  datasetId: string;
  rows: number;
  features: number;
  trainRows: number;
  holdoutRows: number;
  labelRate: number;
}

export interface CellTask {
  runId: string;
  datasetId: string;
  params: Params;
  cellKey: string;
  foldIndex: number;
  folds: number;
  seed: number;
}

export interface CellResult {
  cellKey: string;
  foldIndex: number;
  score: number;
  metrics: Record<string, number>;
  fitMs: number;
  workerIdentity: string;
}

/** The decision threshold chosen for a recall target (defined with its docs in ml/threshold.ts; a type-only import, erased from the workflow bundle). */
import type { ThresholdChoice } from '../ml/threshold';
export type { ThresholdChoice };

export interface SelectionSummary {
  bestParams: Params;
  bestCellKey: string;
  bestScore: number;
  threshold: ThresholdChoice;
}

export interface RegisteredVersion {
  modelName: string;
  version: number;
  metrics: Record<string, number>;
}

export interface PromotionDecision {
  promoted: boolean;
  reason: string;
  previousVersion: number | null;
}

export interface PipelineProgress {
  stage: 'starting' | 'ingest' | 'snapshot' | 'grid-search' | 'threshold' | 'refit' | 'register' | 'promotion' | 'done' | 'failed';
  cellsDone: number;
  cellsTotal: number;
  bestSoFar: { cellKey: string; score: number } | null;
}

export interface PipelineResult {
  runId: string;
  ingest: IngestSummary | null;
  snapshot: SnapshotSummary;
  selection: SelectionSummary;
  version: RegisteredVersion;
  promotion: PromotionDecision;
}
