/**
 * ApplicationFailure type strings, the one classification used across the workflow boundary.
 * Bad data is non-retryable; anything else (I/O) is retried by Temporal.
 */
export const FAILURE_TYPES = {
  /** The input file or its mapping is unusable as a whole (missing column, not UTF-8, too many rejects). */
  badInputFile: 'BadInputFile',
  /** A request names something that does not exist (dataset, model version, upload). */
  notFound: 'NotFound',
  /** Too little usable data to train or evaluate (one class only, too few rows). */
  insufficientData: 'InsufficientData',
  /** A stored artifact failed its checksum or has an unknown format. */
  corruptArtifact: 'CorruptArtifact',
  /** The requested configuration cannot be used (bad grid value, unknown engine). */
  badConfig: 'BadConfig',
} as const;
export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

/** Non-retryable failure types, listed for retry policies. */
export const NON_RETRYABLE: FailureType[] = Object.values(FAILURE_TYPES);

/**
 * A stored artifact (blob, model envelope, typed-array pack) is unreadable: a checksum mismatch, a
 * missing chunk, bad magic bytes, a truncated or unknown format. Retrying reads the same bytes, so
 * the activity wrapper (activities/index.ts) turns it into a non-retryable `CorruptArtifact`.
 */
export class CorruptArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptArtifactError';
  }
}
