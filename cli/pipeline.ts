import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Config } from '../config';
import { uploadFile } from '../store/uploads';
import { WORKFLOW_TYPES, ingestWorkflowId, trainingWorkflowId } from '../common/constants';
import type { IngestSummary, PipelineResult, Trigger } from '../common/workflow-types';
import { trainingSettings } from './settings';

/** Uploads a CSV to GridFS and runs the ingest workflow; same bytes → same workflow id. */
export async function ingestViaWorkflow(client: Client, db: Db, config: Config, path: string, mapping?: unknown): Promise<IngestSummary> {
  const up = await uploadFile(db, path);
  const id = `${ingestWorkflowId(up.uploadId)}-${Date.now()}`;
  return client.workflow.execute(WORKFLOW_TYPES.ingestFile, {
    taskQueue: config.TASK_QUEUE,
    workflowId: id,
    args: [{ uploadId: up.uploadId, fileName: up.fileName, mapping, rejectLimit: config.REJECT_LIMIT }],
  });
}

/** Starts the training pipeline; returns its handle (id = train-<model>-<trigger>-<time>). */
export async function startTraining(client: Client, config: Config, trigger: Trigger, reason: string, requestedBy?: string) {
  const workflowId = trainingWorkflowId(config.MODEL_NAME, trigger, new Date().toISOString());
  return client.workflow.start(WORKFLOW_TYPES.trainingPipeline, {
    taskQueue: config.TASK_QUEUE,
    workflowId,
    args: [{ settings: trainingSettings(config), trigger, reason, requestedBy }],
  });
}

export type { PipelineResult };
