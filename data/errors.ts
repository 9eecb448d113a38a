/**
 * Error types and reject reasons of the data layer. Each error carries its context as readonly
 * fields so callers (ingest activities, the API) can classify without parsing messages.
 */

/** Codes of whole-file ingest failures; every one is non-retryable bad input. */
export const INGEST_FILE_ERROR_CODES = {
  missingColumn: 'missing-column',
  mappingColumnMissing: 'mapping-column-missing',
  duplicateColumn: 'duplicate-column',
  notUtf8: 'not-utf8',
  notCsv: 'not-csv',
  emptyFile: 'empty-file',
} as const;
export type IngestFileErrorCode = (typeof INGEST_FILE_ERROR_CODES)[keyof typeof INGEST_FILE_ERROR_CODES];

/**
 * Thrown by `readUserLogs` when a whole file is unusable. Header, encoding and binary checks
 * happen before the first row is yielded; see csv-reader.ts for the two cases that can only be
 * seen later (bad bytes after the first 64 KiB, an unterminated quote).
 */
export class IngestFileError extends Error {
  override readonly name = 'IngestFileError';
  constructor(
    readonly code: IngestFileErrorCode,
    readonly file: string,
    message: string,
    readonly column?: string,
    readonly line?: number,
  ) {
    super(`${file}: ${message}`);
  }
}

/** Thrown by `parseMapping` with a one-line message naming the bad key and value. */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    readonly key: string,
    readonly value: unknown,
    message: string,
  ) {
    super(`mapping ${key}: ${message}`);
  }
}

/** Thrown by `assertSpec` when a stored feature spec is of another kind/version or inconsistent. */
export class FeatureSpecError extends Error {
  override readonly name = 'FeatureSpecError';
  constructor(
    message: string,
    readonly kind?: unknown,
    readonly version?: unknown,
  ) {
    super(message);
  }
}

/**
 * Why a row was rejected. `duplicateUserId` is never yielded by `readUserLogs` (the later row is
 * yielded as ok with `duplicateOfLine`); it is the reason the ingest records for the superseded row.
 */
export const REJECT_REASONS = {
  columnCount: 'column-count',
  badTimestamp: 'bad-timestamp',
  purchaseBeforeOpen: 'purchase-before-open',
  ageOutOfRange: 'age-out-of-range',
  negativeCount: 'negative-count',
  badNumber: 'bad-number',
  missingValue: 'missing-value',
  badUserId: 'bad-user-id',
  badScreenList: 'bad-screen-list',
  duplicateUserId: 'duplicate-user-id',
  afterAsOf: 'after-as-of',
} as const;
export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];
