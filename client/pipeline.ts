import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Config } from '../config';
import { uploadFile } from '../store/uploads';
import { sha256 } from '../store/blobs';
import { TRAINING_RUN_TIMEOUT, WORKFLOW_TYPES, ingestWorkflowId, trainingWorkflowId } from '../common/constants';
import type { IngestSummary, PipelineResult, Trigger } from '../common/workflow-types';
import { trainingSettings } from '../config';

/**
 * Uploads a CSV to GridFS and runs the ingest workflow. Same database, bytes and mapping → same
 * workflow id: a second `ingest` of a file still being ingested joins that run instead of racing it, and
 * one started after it finished returns the stored summary (`alreadyIngested`).
 */
export async function ingestViaWorkflow(client: Client, db: Db, config: Config, path: string, mapping?: unknown, asOf?: number): Promise<IngestSummary> {
  const up = await uploadFile(db, path);
  const mappingTag = mapping === undefined ? '' : `-m${sha256(Buffer.from(JSON.stringify(mapping))).slice(0, 12)}`;
  const asOfTag = asOf === undefined ? '' : `-a${asOf}`;
  return client.workflow.execute(WORKFLOW_TYPES.ingestFile, {
    taskQueue: config.TASK_QUEUE,
    workflowId: ingestWorkflowId(config.MONGODB_DB, up.uploadId, mappingTag + asOfTag),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ uploadId: up.uploadId, fileName: up.fileName, mapping, rejectLimit: config.REJECT_LIMIT, ...(asOf === undefined ? {} : { asOf }), ...(config.SCORE_ON_INGEST ? { scoreModel: config.MODEL_NAME } : {}) }],
  });
}

/** Starts the training pipeline; returns its handle (id = train-<model>-<trigger>-<time>). */
export async function startTraining(client: Client, config: Config, trigger: Trigger, reason: string, requestedBy?: string) {
  const workflowId = trainingWorkflowId(config.MODEL_NAME, trigger, new Date().toISOString());
  return client.workflow.start(WORKFLOW_TYPES.trainingPipeline, {
    taskQueue: config.TASK_QUEUE,
    workflowId,
    args: [{ settings: trainingSettings(config), trigger, reason, requestedBy }],
    workflowExecutionTimeout: TRAINING_RUN_TIMEOUT,
  });
}

export type { PipelineResult };
