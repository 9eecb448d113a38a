/**
 * Runs tree builds on worker threads from the process-wide pool (trees handed out one at a time so a
 * slow tree does not idle the other threads) or in-process. Trees are keyed by index and seeded from
 * (seed, index), so where a tree was grown never changes it.
 */
import type { Worker } from 'node:worker_threads';
import { buildTree, createWorkspace, type CoreParams, type TreeArrays } from './forest-core';
import type { PredictReply, ThreadData, ThreadReply, ThreadRequest } from './forest-thread';
import { predictBlocks, type SharedWalk } from './forest-walk';
import type { Matrix } from './matrix';
import type { Quantized } from './quantize';
import { acquireWorkers, releaseWorkers, threadCap } from './thread-pool';

/** Progress, cancellation and diagnostics for a fit. */
export interface FitHooks {
  /** called after each finished tree */
  onProgress?: (treesDone: number, total: number) => void;
  /** aborting rejects the fit with the signal's reason and stops all threads */
  signal?: AbortSignal;
  /** called when worker threads fail to start or crash and training continues in-process */
  onWarning?: (message: string) => void;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function growInProcess(q: Quantized, y: Uint8Array, params: CoreParams, first: number, trees: (TreeArrays | undefined)[], hooks: FitHooks, done: { n: number }): Promise<void> {
  const ws = createWorkspace(q.rows, q.cols, q.stride);
  for (let t = 0; t < trees.length; t++) {
    if (trees[t]) continue;
    hooks.signal?.throwIfAborted();
    trees[t] = buildTree(q, y, params, first + t, ws);
    // increment outside the optional call: `f?.(++x)` skips the increment when f is absent
    done.n++;
    hooks.onProgress?.(done.n, trees.length);
    // let timers and abort listeners run between trees
    await yieldToEventLoop();
  }
  hooks.signal?.throwIfAborted();
}

let nextJob = 1;

async function growOnThreads(q: Quantized, y: Uint8Array, params: CoreParams, first: number, trees: (TreeArrays | undefined)[], nThreads: number, hooks: FitHooks, done: { n: number }): Promise<void> {
  const sharedY = new Uint8Array(new SharedArrayBuffer(y.length));
  sharedY.set(y);
  const job = nextJob++;
  const data: ThreadData = { codes: q.codes, y: sharedY, rows: q.rows, cols: q.cols, stride: q.stride, edges: q.edges, edgeOffsets: q.edgeOffsets, params };
  // waits while another fit of this process holds the threads (thread-pool.ts: one per core)
  const workers = await acquireWorkers(nThreads);
  if (hooks.signal?.aborted) {
    releaseWorkers(workers, true);
    hooks.signal.throwIfAborted();
  }
  let next = 0;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      // after success no request is in flight, so the workers are clean for the next fit
      if (err === undefined) for (const w of workers) w.postMessage({ job, clear: true } satisfies ThreadRequest);
      releaseWorkers(workers, err === undefined);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = () => finish(hooks.signal?.reason ?? new Error('fit aborted'));
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const feed = (w: Worker) => {
      if (next < trees.length) w.postMessage({ job, tree: first + next++ } satisfies ThreadRequest);
    };
    for (const w of workers) {
      w.on('message', (msg: ThreadReply) => {
        if (settled || msg.job !== job) return;
        trees[msg.tree - first] = msg.arrays;
        done.n++;
        hooks.onProgress?.(done.n, trees.length);
        if (done.n === trees.length) finish();
        else feed(w);
      });
      w.on('error', (err) => finish(Object.assign(new Error(`forest worker failed: ${err.message}`), { cause: err, workerFailure: true })));
      w.on('exit', (code) => finish(Object.assign(new Error(`forest worker exited with code ${code}`), { workerFailure: true })));
      w.postMessage({ job, data } satisfies ThreadRequest);
      feed(w);
    }
  });
}

/**
 * Grow trees `first` .. `first + nTrees - 1` of the forest (tree i is seeded from (seed, i), so a
 * range grows exactly those trees of the whole forest: what tree shards rely on). With nThreads > 1, `q.codes` must be backed by a SharedArrayBuffer. If the
 * threads fail, the missing trees are grown in-process (same seeds, same result); a genuine error in
 * the core then surfaces from the in-process run.
 */
export async function growTrees(q: Quantized, y: Uint8Array, params: CoreParams, nTrees: number, nThreads: number, hooks: FitHooks = {}, first = 0): Promise<TreeArrays[]> {
  hooks.signal?.throwIfAborted();
  const trees: (TreeArrays | undefined)[] = new Array(nTrees).fill(undefined);
  const done = { n: 0 };
  const threads = Math.min(nThreads, nTrees);
  if (threads > 1 && q.codes.buffer instanceof SharedArrayBuffer) {
    try {
      await growOnThreads(q, y, params, first, trees, threads, hooks, done);
    } catch (err) {
      if (!(err as { workerFailure?: boolean }).workerFailure) throw err;
      hooks.onWarning?.(`${(err as Error).message}; growing the remaining trees in-process`);
    }
  }
  await growInProcess(q, y, params, first, trees, hooks, done);
  return trees as TreeArrays[];
}

/** Rows from which a batch is split with a forest thread: below, a thread's round trip (~0.2 ms) outweighs half the walk. */
export const PARALLEL_PREDICT_ROWS = 256;

/**
 * Scores the rows of X with the forest's walk, the second half on a forest thread while this
 * thread walks the first (one per core: thread-pool.ts; alone on one core, or for small batches,
 * all here). Each row's score is the one predictBlocks gives it on any thread. The thread's part
 * of X is posted as a view when X lives in shared memory (the API makes large batches there),
 * else copied there once.
 */
export async function predictSplit(walk: SharedWalk, X: Matrix): Promise<Float64Array> {
  const { rows, cols } = X;
  if (rows < PARALLEL_PREDICT_ROWS || threadCap() < 2) return predictBlocks(walk, walk.walkFeature, X.data, rows, cols);
  const mid = rows >> 1;
  // rows already in shared memory are posted as a view (no copy); others are copied there once
  let theirs = X.data.subarray(mid * cols, rows * cols);
  if (!(theirs.buffer instanceof SharedArrayBuffer)) {
    const shared = new Float64Array(new SharedArrayBuffer(theirs.byteLength));
    shared.set(theirs);
    theirs = shared;
  }
  const [w] = await acquireWorkers(1);
  const job = nextJob++;
  let healthy = false;
  try {
    const reply = new Promise<Float64Array>((resolve, reject) => {
      w!.on('message', (m: PredictReply) => { if (m.job === job) resolve(m.proba); });
      w!.on('error', reject);
      w!.on('exit', (code) => reject(new Error(`forest worker exited with code ${code}`)));
    });
    w!.postMessage({ job, predict: { walk, data: theirs, rows: rows - mid, cols } } satisfies ThreadRequest);
    const out = new Float64Array(rows);
    out.set(predictBlocks(walk, walk.walkFeature, X.data.subarray(0, mid * cols), mid, cols));
    // a thread that failed is replaced; its rows are walked here (the same scores)
    out.set(await reply.then((p) => { healthy = true; return p; }, () => predictBlocks(walk, walk.walkFeature, theirs, rows - mid, cols)), mid);
    return out;
  } finally {
    releaseWorkers([w!], healthy);
  }
}
