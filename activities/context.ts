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

/** How often {@link withKeepalive} repeats the last heartbeat (the heavy activities' timeout is 30 s). */
const KEEPALIVE_MS = 5000;

/**
 * Runs `fn` and heartbeats every KEEPALIVE_MS with the last details `fn` gave `beat` (starting
 * with `first`): an activity that waits (for the server's first batch, for the process's forest
 * threads held by another fit, through a quantisation) is not taken for a dead worker. `beat`
 * heartbeats at once as well.
 */
export async function withKeepalive<T>(first: unknown, fn: (beat: (details: unknown) => void) => Promise<T>): Promise<T> {
  let last = first;
  const keepalive = setInterval(() => heartbeat(last), KEEPALIVE_MS);
  try {
    heartbeat(first);
    return await fn((d) => heartbeat((last = d)));
  } finally {
    clearInterval(keepalive);
  }
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
