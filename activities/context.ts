import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPES, type FailureType } from '../common/errors';

function current(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // called outside an activity (a unit test or a CLI path): no heartbeats
  }
}

/** Heartbeats progress details when running as an activity; a no-op elsewhere. */
export function heartbeat(details: unknown): void {
  current()?.heartbeat(details);
}

/** The details of the last heartbeat of a previous attempt, for resuming after a retry. */
export function resumeDetails<T>(): T | undefined {
  return current()?.info?.heartbeatDetails as T | undefined;
}

const SILENT = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/**
 * The activity's logger (workflow id, activity id and attempt attached by the SDK; the worker
 * routes it to its pino logger), or a silent one outside an activity.
 */
export function activityLog(): Pick<Context['log'], 'debug' | 'info' | 'warn' | 'error'> {
  return current()?.log ?? SILENT;
}

export function attempt(): number {
  return current()?.info.attempt ?? 1;
}

/** Converts a bad-input error into the non-retryable failure with its named type. */
export function nonRetryable(type: FailureType, err: unknown): ApplicationFailure {
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.nonRetryable(message, type, err instanceof Error ? { name: err.name } : undefined);
}

export { FAILURE_TYPES };
