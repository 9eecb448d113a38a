import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Db } from 'mongodb';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createActivities } from '../activities';
import type { WorkerMetrics } from '../obs/metrics';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerDeps {
  connection: NativeConnection;
  db: Db;
  config: Config;
  identity?: string;
  /** A Temporal client for activities that ask Temporal about other workflows (the monitor's run state). */
  temporal?: Client;
  /** Activity metrics (durations, cells, scored users) to feed; absent = none. */
  metrics?: WorkerMetrics;
  /** A pre-built bundle (tests build it once per file); otherwise bundled from WORKFLOWS_PATH. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | null = null;

const BUNDLE_CHILD = fileURLToPath(new URL('./bundle-child.mjs', import.meta.url));

/**
 * Bundles the workflow code once per process (webpack; a few seconds), in a child process: webpack
 * loaded into the worker stayed in its memory for life (+105 MB RSS, measured), which a worker
 * that holds a million users' matrix cannot spare. If the child cannot run, bundles in-process.
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundlePromise ??= new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [BUNDLE_CHILD, WORKFLOWS_PATH], { maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`bundling workflows in a child process failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
      else resolve(stdout);
    });
  }).then(
    (code) => ({ code, sourceMap: '' }),
    (err: Error) => {
      console.warn(`${err.message}; bundling in this process`);
      return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    },
  );
  return bundlePromise;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log() {} } as never;

/** Creates (does not run) a worker for the task queue with every workflow and activity. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const identity = deps.identity ?? `${process.pid}@${(await import('node:os')).hostname()}`;
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueue: deps.config.TASK_QUEUE,
    identity,
    workflowBundle: deps.workflowBundle ?? (await workflowBundle()),
    activities: createActivities({ db: deps.db, config: deps.config, workerIdentity: identity, temporal: deps.temporal }),
    ...(deps.metrics ? { interceptors: { activity: [deps.metrics.interceptor()] } } : {}),
    // Grid cells and tree shards are CPU-bound and each uses every core through worker_threads:
    // a few at a time per process keeps memory bounded; more processes (or machines) add
    // throughput. A worker polls only while it has a free slot, so with 1 slot the shards of one
    // refit go to as many workers as are idle.
    maxConcurrentActivityTaskExecutions: deps.config.WORKER_ACTIVITY_SLOTS,
    shutdownGraceTime: '10s',
  });
}
