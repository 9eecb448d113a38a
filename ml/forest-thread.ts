/**
 * Worker-thread side of forest training. A pooled worker serves many fits ("jobs"): each job sends
 * its shared quantised data once, then asks for trees one message at a time; the tree arrays are
 * transferred back, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { buildTree, createWorkspace, type CoreParams, type TreeArrays, type Workspace } from './forest-core';
import type { Quantized } from './quantize';
import { predictBlocks, type SharedWalk } from './forest-walk';

/** A job's data; codes and y are views over SharedArrayBuffers, so posting them does not copy. */
export interface ThreadData {
  codes: Uint8Array;
  y: Uint8Array;
  rows: number;
  cols: number;
  stride: number;
  edges: Float64Array;
  edgeOffsets: Int32Array;
  params: CoreParams;
}

/** Rows of a batch for a thread to score: views of shared memory, posted without copying. */
export interface PredictPart {
  walk: SharedWalk;
  data: Float64Array;
  rows: number;
  cols: number;
}

/**
 * Messages to a worker: `data` starts a job, `tree` asks for one tree of it, `clear` drops the
 * job's data; `predict` scores rows with a fitted forest (a job of its own, answered at once).
 */
export type ThreadRequest = { job: number; data: ThreadData } | { job: number; tree: number } | { job: number; clear: true } | { job: number; predict: PredictPart };
export interface ThreadReply {
  job: number;
  tree: number;
  arrays: TreeArrays;
}
export interface PredictReply {
  job: number;
  proba: Float64Array;
}

export function treeBuffers(t: TreeArrays): ArrayBuffer[] {
  return [t.feature, t.threshold, t.left, t.value, t.cover, t.importances].map((a) => a.buffer as ArrayBuffer);
}

/** Serve requests for as long as the worker lives; called by forest-thread.mjs inside the worker. */
export function runForestThread(): void {
  const port = parentPort;
  if (!port) throw new Error('runForestThread must run inside a worker thread');
  let current: { job: number; data: ThreadData; q: Quantized } | null = null;
  // The workspace (three arrays of the fit's rows) lives for one job: an idle thread kept one of a
  // million-user fold (32 MB) for as long as it waited for the next fit.
  let ws: Workspace | null = null;
  port.on('message', (msg: ThreadRequest) => {
    if ('predict' in msg) {
      const { walk, data, rows, cols } = msg.predict;
      const proba = predictBlocks(walk, walk.walkFeature, data, rows, cols);
      port.postMessage({ job: msg.job, proba } satisfies PredictReply, [proba.buffer as ArrayBuffer]);
    } else if ('data' in msg) {
      const d = msg.data;
      if (!ws || ws.count.length !== d.rows || ws.perm.length !== d.cols || ws.rows.length !== d.rows * d.stride) ws = createWorkspace(d.rows, d.cols, d.stride);
      current = { job: msg.job, data: d, q: { codes: d.codes, rows: d.rows, cols: d.cols, stride: d.stride, edges: d.edges, edgeOffsets: d.edgeOffsets } };
    } else if ('clear' in msg) {
      // drop the references so the job's shared buffers and the workspace can be collected
      if (current?.job === msg.job) {
        current = null;
        ws = null;
      }
    } else {
      if (!current || !ws || current.job !== msg.job) throw new Error(`tree ${msg.tree} of job ${msg.job} requested before its data`);
      const arrays = buildTree(current.q, current.data.y, current.data.params, msg.tree, ws);
      const reply: ThreadReply = { job: msg.job, tree: msg.tree, arrays };
      port.postMessage(reply, treeBuffers(arrays));
    }
  });
}
