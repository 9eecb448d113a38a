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
import { CorruptArtifactError, FAILURE_TYPES } from '../common/errors';
import { nonRetryable } from './context';

/**
 * Failures that a retry cannot cure, classified once for every activity: an unreadable artifact
 * (checksum, missing chunk, bad format: the retry reads the same bytes) becomes a non-retryable
 * `CorruptArtifact`, so the workflow fails at once naming it instead of retrying for minutes.
 * Everything else passes through unchanged (activities classify bad input themselves).
 */
export function classifyFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof CorruptArtifactError) throw nonRetryable(FAILURE_TYPES.corruptArtifact, err);
        throw err;
      }
    };
  }
  return out as T;
}

/** Every activity, merged; workflows import only this function's return *type*. */
export function createActivities(deps: ActivityDeps) {
  return classifyFailures({
    ...createIngestActivities(deps),
    ...createFeatureActivities(deps),
    ...createTrainingActivities(deps),
    ...createEvaluationActivities(deps),
    ...createRegistryActivities(deps),
    ...createPromotionActivities(deps),
    ...createMonitoringActivities(deps),
    ...createRunActivities(deps),
    ...createScoringActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
