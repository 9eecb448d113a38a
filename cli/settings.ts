import type { Config } from '../config';
import type { TrainingSettings } from '../common/workflow-types';

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
    },
  };
}
