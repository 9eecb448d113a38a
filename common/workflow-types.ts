/**
 * Workflow-safe types: inputs, outputs and small summaries that travel through Temporal.
 * Only ids and small numbers go here, never rows or models (2 MB payload limit).
 */
import type { EngineName } from './engines';
import type { TriggerName } from './monitor-policy';
/** Who starts a training run: a person or `up`, or one of the monitor's automatic triggers (common/monitor-policy.ts). */
export const TRIGGERS = {
  manual: 'manual',
  up: 'up',
  ops: 'ops',
} as const;
export type Trigger = (typeof TRIGGERS)[keyof typeof TRIGGERS] | TriggerName;

export type GridValue = number | string | null;
export type ParamGrid = Record<string, GridValue[]>;
export type Params = Record<string, GridValue>;

export type Scoring = 'precision_at_target_recall' | 'roc_auc' | 'average_precision' | 'recall' | 'f1';

/** How the gate decides (docs/decisions.md "A fair promotion gate"). */
export interface PromotionPolicy {
  /** `better`: the interval of the difference lies above 0; `non-inferior`: above −margin and the candidate saw newer data. */
  rule: 'better' | 'non-inferior';
  /** Largest loss of precision at the target recall that `non-inferior` tolerates. */
  margin: number;
  /** Largest loss of ROC AUC (interval's lower end) either rule tolerates. */
  aucMargin: number;
  /** The first model's absolute ROC AUC floor. */
  minAuc: number;
  /** Fewest users (and buyers) unseen by both models for a comparison to count. */
  minUsers: number;
  minPositives: number;
  /** Paired bootstrap resamples. */
  resamples: number;
  /** Fewest matured buyers / non-buyers in the candidate's snapshot for it to be eligible at all (absent in older runs' settings: no check). */
  eligibleMinPositives?: number;
  eligibleMinNegatives?: number;
}

/** Everything a run does is decided by these, recorded with the run, never by a worker's environment. */
export interface TrainingSettings {
  modelName: string;
  engine: EngineName;
  paramGrid: ParamGrid;
  folds: number;
  scoring: Scoring;
  targetRecall: number;
  classWeight: 'none' | 'balanced';
  splitStrategy: 'hash' | 'time';
  holdoutFraction: number;
  seed: number;
  gridConcurrency: number;
  calibration: 'auto' | 'isotonic' | 'platt' | 'none';
  leakageAucBound: number;
  promotion: PromotionPolicy;
  /** Tree shards of the refit (common/shards.ts): 0 = one per worker process that ran this run's grid cells; absent in older runs' settings: none. */
  refitShards?: number;
  /** Fewest training rows for the refit to be sharded at all. */
  refitShardMinRows?: number;
  /** Ask for a scoring run when this run promotes (SCORE_ON_PROMOTION); absent in older runs' settings: true. */
  scoreOnPromotion?: boolean;
}

export interface IngestRequest {
  /** GridFS id (sha256 of the bytes) of an uploaded CSV. */
  uploadId: string;
  fileName: string;
  mapping?: unknown;
  rejectLimit: number;
  /**
   * Observation time of the export (epoch ms): users without a purchase whose 24 h window is
   * still open at this time are pending, not non-buyers. @default the latest timestamp in the file
   */
  asOf?: number;
  /** Model whose production version scores the new users once the ingest is done (scoreNewUsers). @default none */
  scoreModel?: string;
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
  /** Written users still inside their window at `asOf` (pending, not negatives). */
  pending: number;
  /** The batch's observation time (ISO 8601), null for an empty file. */
  asOf: string | null;
  asOfSource: 'given' | 'latest-in-file';
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
  /** Matured users (= rows) and users left out because their window was still open. */
  matured: number;
  pending: number;
  /** Zone of the calendar features. */
  timezone: string;
}

export interface CellTask {
  runId: string;
  datasetId: string;
  params: Params;
  cellKey: string;
  foldIndex: number;
  folds: number;
  seed: number;
  /** From the run's settings (a cell never reads the worker's environment). */
  engine: TrainingSettings['engine'];
  scoring: Scoring;
  targetRecall: number;
}

export interface CellResult {
  cellKey: string;
  foldIndex: number;
  score: number;
  metrics: Record<string, number>;
  fitMs: number;
  workerIdentity: string;
}

/** The decision threshold chosen for a recall target (by ml/threshold.ts `chooseThreshold`). */
export interface ThresholdChoice {
  /** predict 1 when p >= threshold */
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  /** precision at the default threshold 0.5 */
  precisionAtDefault: number;
  /** precisionAtDefault - precision: what the recall target costs in precision (negative = gain) */
  precisionCost: number;
  /**
   * whether some threshold reaches the target. With a valid target and at least one positive this is
   * always true (the lowest score flags every row: recall 1); the field guards callers that pass
   * scores from elsewhere, and a false value comes with the threshold-0.5 figures.
   */
  reachable: boolean;
}

export interface SelectionSummary {
  bestParams: Params;
  bestCellKey: string;
  bestScore: number;
  /** Chosen on calibrated out-of-fold scores. */
  threshold: ThresholdChoice;
  /** Why this cell (the one-standard-error rule's verdict). */
  selectionRule: string;
  /** Calibrator kind fitted on the out-of-fold predictions (its parameters are on the run). */
  calibration: 'identity' | 'isotonic' | 'platt';
}

export interface RegisteredVersion {
  modelName: string;
  version: number;
  metrics: Record<string, number>;
}

/** What the gate measured and decided; stored on the candidate version and shown on the models page and in status. */
export interface PromotionRecord {
  rule: PromotionPolicy['rule'] | 'first-model' | 'eligibility';
  verdict: 'promoted' | 'rejected' | 'insufficient-evidence' | 'not-eligible';
  reason: string;
  comparedWith: number | null;
  /** Which users both models were scored on, and why neither saw them in training. */
  evalSet: string;
  n: number;
  positives: number;
  /** Candidate holdout users left out because production trained on them (0 with the stable hash split). */
  excludedSeenByProduction: number;
  targetRecall: number;
  candidate: { precision_at_target_recall: number; roc_auc: number } | null;
  production: { precision_at_target_recall: number; roc_auc: number } | null;
  diff: { precision_at_target_recall: number; roc_auc: number } | null;
  interval: { precision_at_target_recall: [number, number]; roc_auc: [number, number] } | null;
  confidence: number | null;
  resamples: number | null;
  sawNewerData: boolean | null;
  policy: PromotionPolicy;
  at: Date;
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

/** What `planScoring` decided (scoreNewUsers, issue 13 §1). */
export interface ScoringPlan {
  /** Null when there is nothing to score (no production model, or every user scored). */
  planId: string | null;
  version: number | null;
  jobs: number;
  users: number;
  /** Users an older version scored whose window is still open, scored again by this one. */
  reScored?: number;
  dataTime?: string;
  /** Each saved audience's probability cut-off for this run (null: the audience is empty). */
  cutoffs?: Record<string, number | null>;
  reason: string;
}

export interface ScoreJobResult {
  written: number;
  /** Already written by an earlier attempt (or another run): refused by the unique id, not re-written. */
  skipped: number;
  /** The job document was gone (its plan finished elsewhere). */
  missing: boolean;
}

export interface ScoreRequest {
  modelName: string;
  /** Why: `ingest <batchId>`, `promotion v<N>`, `schedule`, `manual`. */
  reason: string;
  /** Jobs in flight at once. @default 4 */
  concurrency?: number;
}

export interface ScoreSummary {
  version: number | null;
  users: number;
  written: number;
  skipped: number;
  reScored: number;
  jobs: number;
  reason: string;
  /** Plans run: more than one when `rescan` signals arrived during a run. */
  passes: number;
}
