/**
 * Process-wide pool of forest worker threads. Starting a worker costs a few hundred milliseconds
 * (it loads tsx and the core), which a grid search would pay per cell; idle workers are kept,
 * unref'd so they never hold the process open, and reused by the next fit.
 *
 * At most {@link threadCap} threads exist at once (one per core): a fit that finds them taken
 * waits for them. Two fits at once on a worker (two grid cells) used to start two threads each:
 * no faster on two cores, and each thread holds a workspace of its fit's rows (32 MB at a
 * million users' fold), so the worker passed 1 GB.
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

/** Threads the process may run at once: one per core. */
export const threadCap = (): number => Math.max(1, availableParallelism());

/** Threads handed out and not yet given back. */
let busy = 0;
const waiting: { n: number; grant: () => void }[] = [];

/**
 * Take `n` workers (at most {@link threadCap}), reusing idle ones; waits, first come first served,
 * while the other fits hold the threads. The caller owns their 'message'/'error'/'exit'
 * listeners and gives them back with {@link releaseWorkers}.
 */
export async function acquireWorkers(want: number): Promise<Worker[]> {
  const n = Math.min(Math.max(1, want), threadCap());
  if (waiting.length === 0 && busy + n <= threadCap()) busy += n;
  else await new Promise<void>((grant) => waiting.push({ n, grant })); // wake() reserves the threads
  try {
    return takeWorkers(n);
  } catch (err) {
    busy -= n;
    wake();
    throw err;
  }
}

/** Lets the first waiting fits go while enough threads are free (in order: none overtakes another). */
function wake(): void {
  while (waiting.length > 0 && busy + waiting[0]!.n <= threadCap()) {
    const w = waiting.shift()!;
    busy += w.n;
    w.grant();
  }
}

function takeWorkers(n: number): Worker[] {
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
  busy -= workers.length;
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
  wake();
}

/** Threads handed out now and fits waiting for them (tests, diagnostics). */
export function poolState(): { busy: number; waiting: number; idle: number } {
  return { busy, waiting: waiting.length, idle: idle.length };
}

/** Terminate every idle worker (tests and graceful shutdown). */
export async function closeIdleWorkers(): Promise<void> {
  const all = idle.splice(0, idle.length);
  await Promise.all(all.map((w) => w.terminate()));
}
