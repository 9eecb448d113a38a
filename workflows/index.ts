export { trainingPipeline } from './training-pipeline';
export { ingestFile } from './ingest-file';
