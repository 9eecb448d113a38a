/**
 * Process-wide pool of forest worker threads. Starting a worker costs a few hundred milliseconds
 * (it loads tsx and the core), which a grid search would pay per cell; idle workers are kept,
 * unref'd so they never hold the process open, and reused by the next fit.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const idle: Worker[] = [];

/** Only our own events: Worker keeps internal 'newListener' hooks that a bare removeAllListeners() would break. */
function clearListeners(w: Worker): void {
  for (const event of ['message', 'error', 'exit'] as const) w.removeAllListeners(event);
}

function dropIdle(w: Worker): void {
  const i = idle.indexOf(w);
  if (i >= 0) idle.splice(i, 1);
}

/** Take `n` workers, reusing idle ones; the caller owns their 'message'/'error'/'exit' listeners. */
export function acquireWorkers(n: number): Worker[] {
  const out: Worker[] = [];
  while (out.length < n && idle.length > 0) {
    const w = idle.pop() as Worker;
    clearListeners(w);
    w.ref();
    out.push(w);
  }
  while (out.length < n) out.push(new Worker(new URL('./forest-thread.mjs', import.meta.url)));
  return out;
}

/**
 * Give workers back. Healthy workers (no request in flight) are kept up to the machine's
 * parallelism; the rest, and all workers after a failure or abort, are terminated.
 */
export function releaseWorkers(workers: Worker[], healthy: boolean): void {
  for (const w of workers) {
    clearListeners(w);
    if (!healthy || idle.length >= availableParallelism()) {
      void w.terminate();
      continue;
    }
    // an idle worker that dies must not crash the process with an unhandled 'error' event
    w.once('error', () => dropIdle(w));
    w.once('exit', () => dropIdle(w));
    w.unref();
    idle.push(w);
  }
}

/** Terminate every idle worker (tests and graceful shutdown). */
export async function closeIdleWorkers(): Promise<void> {
  const all = idle.splice(0, idle.length);
  await Promise.all(all.map((w) => w.terminate()));
}
