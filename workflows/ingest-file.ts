import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { IngestRequest, IngestSummary } from '../common/workflow-types';
import { NON_RETRYABLE } from '../common/errors';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import { requestScoring } from './score-new-users';

const { ingestUpload } = proxyActivities<Activities>({
  startToCloseTimeout: '60 minutes',
  // The activity heartbeats at least every 5 s while alive (see activities/ingest.ts), so 20 s
  // means a killed worker's ingest resumes on another worker within ~20 s instead of a minute.
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Ingests one uploaded CSV (what `retail24 ingest` runs); a crash resumes from the last heartbeat. Then asks for the new users to be scored. */
export async function ingestFile(req: IngestRequest): Promise<IngestSummary> {
  const summary = await ingestUpload(req);
  upsertSearchAttributes({ [SEARCH_ATTRIBUTES.outcome]: [summary.alreadyIngested ? 'unchanged' : 'ingested'] });
  if (req.scoreModel && !summary.alreadyIngested && summary.inserted + summary.updated > 0) await requestScoring(req.scoreModel, `ingest ${summary.batchId}`);
  return summary;
}
