export { trainingPipeline } from './training-pipeline';
export { ingestFile } from './ingest-file';
export { modelMonitor } from './model-monitor';
export { scoreNewUsers } from './score-new-users';
