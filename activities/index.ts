import { createIngestActivities } from './ingest';
import { createFeatureActivities } from './features';
import { createTrainingActivities } from './training';
import { createEvaluationActivities } from './evaluation';
import { createRegistryActivities } from './registry';
import { createPromotionActivities } from './promotion';
import { createMonitoringActivities } from './monitoring';
import { createRunActivities } from './runs';
import { createScoringActivities } from './scoring';
import type { ActivityDeps } from './deps';

/** Every activity, merged; workflows import only this function's return *type*. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createIngestActivities(deps),
    ...createFeatureActivities(deps),
    ...createTrainingActivities(deps),
    ...createEvaluationActivities(deps),
    ...createRegistryActivities(deps),
    ...createPromotionActivities(deps),
    ...createMonitoringActivities(deps),
    ...createRunActivities(deps),
    ...createScoringActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
