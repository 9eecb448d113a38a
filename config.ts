import { z } from 'zod';
import type { TrainingSettings } from './common/workflow-types';
import { ENGINE_NAMES } from './common/engines';
import { POLICY_FIELDS, type PolicyEnv, type PolicyField } from './common/monitor-policy';
import { DEFAULT_REFIT_SHARD_MIN_ROWS } from './common/shards';

/** Thrown at start-up when an environment variable has a bad value; names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`config: ${variable}=${JSON.stringify(value)} is invalid: ${rule}`);
    this.name = 'ConfigError';
  }
}

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const fraction = z.coerce.number().gt(0).lt(1);
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');
const paramGridSchema = z.record(z.array(z.union([z.number(), z.string(), z.null()])).min(1));

/**
 * Named grids for PARAM_GRID. `default` was chosen by measurement (bench/README.md "Grid"):
 * depth and leaf size decide how well a forest ranks buyers; more trees past 100 add little.
 * `seed` is the first round's grid, kept for comparison.
 */
export const PARAM_GRID_PRESETS = {
  default: { nEstimators: [100], maxDepth: [8, 10, 12], minSamplesLeaf: [5, 20] },
  seed: { nEstimators: [100, 200], maxDepth: [5, 10] },
} as const satisfies Record<string, Record<string, (number | null)[]>>;

const paramGrid = z.string().transform((s, ctx) => {
  if (s in PARAM_GRID_PRESETS) return structuredClone(PARAM_GRID_PRESETS[s as keyof typeof PARAM_GRID_PRESETS]) as unknown;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not valid JSON nor a preset name (${Object.keys(PARAM_GRID_PRESETS).join(', ')})` });
    return z.NEVER;
  }
}).pipe(paramGridSchema);

/** The zod rule of one monitor policy field (common/monitor-policy.ts): same bounds as the workflow's validator. */
function policyField(f: PolicyField) {
  let n = z.coerce.number();
  if (f.integer) n = n.int();
  n = f.minExclusive ? n.gt(f.min) : n.min(f.min);
  n = f.maxExclusive ? n.lt(f.max) : n.max(f.max);
  return n.default(f.default);
}

type MonitorEnv = Record<PolicyEnv, ReturnType<typeof policyField>>;
/** MONITOR_* variables, one per policy field of the trigger list. */
const monitorEnv = Object.fromEntries(POLICY_FIELDS.map((f) => [f.env, policyField(f)])) as unknown as MonitorEnv;

/**
 * Every setting, its environment variable and its default. README.md's configuration table
 * mirrors this list.
 */
export const configSchema = z.object({
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: z.string().url().optional(),
  TASK_QUEUE: z.string().min(1).default('retail24'),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// URI').optional(),
  MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/, 'letters, digits, _ or -').default('retail24'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intIn(0, 65535).default(8080),
  WORKER_METRICS_PORT: intIn(0, 65535).optional(),
  /** Activities one worker process runs at once (grid cells and tree shards each use every core). */
  WORKER_ACTIVITY_SLOTS: intIn(1, 64).default(2),
  API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  MODEL_NAME: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/).default('Retail24RandomForestClassifier'),
  ENGINE: z.enum(ENGINE_NAMES).default('retail24'),
  PARAM_GRID: paramGrid.default('default'),
  CV_FOLDS: intIn(2, 20).default(3),
  SCORING: z.enum(['precision_at_target_recall', 'roc_auc', 'average_precision', 'recall', 'f1']).default('precision_at_target_recall'),
  TARGET_RECALL: fraction.default(0.9),
  CLASS_WEIGHT: z.enum(['none', 'balanced']).default('balanced'),
  // 'stratified' was the first round's name; its per-snapshot shuffle is replaced by the stable hash split.
  SPLIT_STRATEGY: z.enum(['hash', 'time', 'stratified']).default('hash').transform((v) => (v === 'stratified' ? 'hash' : v)),
  HOLDOUT_FRACTION: fraction.default(0.2),
  SEED: intIn(0, 2 ** 31 - 1).default(42),
  GRID_CONCURRENCY: intIn(1, 256).default(8),
  /** Tree shards of the refit: 0 = one per worker that ran the run's grid cells (common/shards.ts). */
  REFIT_SHARDS: intIn(0, 256).default(0),
  REFIT_SHARD_MIN_ROWS: intIn(0, 1_000_000_000).default(DEFAULT_REFIT_SHARD_MIN_ROWS),
  REJECT_LIMIT: z.coerce.number().min(0).max(1).default(0.05),
  CALIBRATION: z.enum(['auto', 'isotonic', 'platt', 'none']).default('auto'),
  LEAKAGE_AUC_BOUND: z.coerce.number().gt(0.5).max(1).default(0.95),
  PROMOTION_RULE: z.enum(['non-inferior', 'better']).default('non-inferior'),
  PROMOTION_MARGIN: z.coerce.number().min(0).max(1).default(0.02),
  PROMOTION_AUC_MARGIN: z.coerce.number().min(0).max(1).default(0.01),
  PROMOTION_MIN_USERS: intIn(10, 10_000_000).default(200),
  PROMOTION_MIN_POSITIVES: intIn(1, 10_000_000).default(30),
  PROMOTION_BOOTSTRAP: intIn(100, 100_000).default(1000),
  PROMOTION_MIN_AUC: z.coerce.number().min(0).max(1).default(0.6),
  // 150 = PROMOTION_MIN_POSITIVES (30) / HOLDOUT_FRACTION (0.2): fewer matured buyers (or non-buyers)
  // in the snapshot leave the holdout too few of them for the gate and the threshold to mean anything.
  ELIGIBILITY_MIN_POSITIVES: intIn(1, 10_000_000).default(150),
  ELIGIBILITY_MIN_NEGATIVES: intIn(1, 10_000_000).default(150),
  PREDICT_MAX_BATCH: intIn(1, 100_000).default(1000),
  /** Users per /v1/predict?explain=true request: an exact TreeSHAP explanation of a 200-tree depth-12 forest costs ~40 ms (bench/README.md "explain"). */
  EXPLAIN_MAX_BATCH: intIn(1, 1000).default(20),
  /** scoreNewUsers: the Temporal Schedule's interval, jobs in flight, and whether each ingest asks for a run. */
  SCORE_INTERVAL_S: intIn(10, 7 * 24 * 3600).default(900),
  SCORE_CONCURRENCY: intIn(1, 64).default(4),
  SCORE_ON_INGEST: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** Whether a promotion asks for a scoring run at once (users still inside their window re-scored by the new version); otherwise the schedule's next run does it. */
  SCORE_ON_PROMOTION: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  MODEL_POLL_MS: intIn(100, 600_000).default(2000),
  /** Largest CSV upload /v1/predict/batch accepts (bytes); larger uploads get 413. */
  BATCH_MAX_BYTES: intIn(1024, 2 ** 31).default(50 * 1024 * 1024),
  DATA_DIR: z.string().min(1).default('.data'),
  ...monitorEnv,
});

export type Config = z.infer<typeof configSchema>;

/** Training settings from config: what a pipeline run carries (and records) as its input. */
export function trainingSettings(config: Config): TrainingSettings {
  return {
    modelName: config.MODEL_NAME,
    engine: config.ENGINE,
    paramGrid: config.PARAM_GRID,
    folds: config.CV_FOLDS,
    scoring: config.SCORING,
    targetRecall: config.TARGET_RECALL,
    classWeight: config.CLASS_WEIGHT,
    splitStrategy: config.SPLIT_STRATEGY,
    holdoutFraction: config.HOLDOUT_FRACTION,
    seed: config.SEED,
    gridConcurrency: config.GRID_CONCURRENCY,
    refitShards: config.REFIT_SHARDS,
    refitShardMinRows: config.REFIT_SHARD_MIN_ROWS,
    scoreOnPromotion: config.SCORE_ON_PROMOTION,
    calibration: config.CALIBRATION,
    leakageAucBound: config.LEAKAGE_AUC_BOUND,
    promotion: {
      rule: config.PROMOTION_RULE,
      margin: config.PROMOTION_MARGIN,
      aucMargin: config.PROMOTION_AUC_MARGIN,
      minAuc: config.PROMOTION_MIN_AUC,
      minUsers: config.PROMOTION_MIN_USERS,
      minPositives: config.PROMOTION_MIN_POSITIVES,
      resamples: config.PROMOTION_BOOTSTRAP,
      eligibleMinPositives: config.ELIGIBILITY_MIN_POSITIVES,
      eligibleMinNegatives: config.ELIGIBILITY_MIN_NEGATIVES,
    },
  };
}


/**
 * Validates the environment once, at an entry point. Unknown variables are ignored; a bad value
 * throws {@link ConfigError} naming the first offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'unknown');
    throw new ConfigError(variable, picked[variable], issue.message);
  }
  return parsed.data;
}
