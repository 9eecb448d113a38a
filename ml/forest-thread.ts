/**
 * Worker-thread side of forest training: receives the shared quantised data once (workerData), then
 * grows the trees it is asked for, one message per tree, and transfers the arrays back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildTree, createWorkspace, type CoreParams, type TreeArrays } from './forest-core';

/** What the main thread passes as workerData; codes and y are views over SharedArrayBuffers. */
export interface ThreadData {
  codes: Uint8Array;
  y: Uint8Array;
  rows: number;
  cols: number;
  edges: Float64Array;
  edgeOffsets: Int32Array;
  params: CoreParams;
}

export type ThreadRequest = { tree: number } | { stop: true };
export interface ThreadReply {
  tree: number;
  arrays: TreeArrays;
}

export function treeBuffers(t: TreeArrays): ArrayBuffer[] {
  return [t.feature, t.threshold, t.left, t.value, t.importances].map((a) => a.buffer as ArrayBuffer);
}

/** Serve tree requests until told to stop; called by forest-thread.mjs inside the worker. */
export function runForestThread(): void {
  const port = parentPort;
  if (!port) throw new Error('runForestThread must run inside a worker thread');
  const data = workerData as ThreadData;
  const q = { codes: data.codes, rows: data.rows, cols: data.cols, edges: data.edges, edgeOffsets: data.edgeOffsets };
  const ws = createWorkspace(data.rows, data.cols);
  port.on('message', (msg: ThreadRequest) => {
    if ('stop' in msg) {
      port.close();
      return;
    }
    const arrays = buildTree(q, data.y, data.params, msg.tree, ws);
    const reply: ThreadReply = { tree: msg.tree, arrays };
    port.postMessage(reply, treeBuffers(arrays));
  });
}
