/**
 * Pipeline benchmark (issue 5 "Done means"): wall time of the default training pipeline on 50,000
 * users with one and with two worker processes on the same task queue.
 *
 *   npx tsx bench/pipeline.ts [--json] [--users N] [--quick] [--workers 1,2]
 *
 * A private stack (temp dir, free ports), one generated file, and per worker count: a fresh
 * database, N `retail24 worker` processes, the ingest workflow, then the training pipeline timed
 * end to end. Stage times come from polling the run document's `stage` (the workflow records each
 * transition); grid cells from `cv_cells` (fitMs, workerIdentity). Writes
 * bench/results/pipeline-<date>.json. `--quick`: 5,000 users (a smoke run of the harness).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { generateToFiles } from '../data/generator';
import { startLocalStack, type LocalStack } from '../stack/local-stack';
import { loadConfig } from '../config';
import { connectStore } from '../store/db';
import { COLLECTIONS } from '../store/collections';
import { getRun } from '../store/runs';
import { SNAPSHOT_READ } from '../store/users';
import { ingestViaWorkflow, startTraining } from '../client/pipeline';
import { procStatusMb, resetPeak, serverPid, workerPid } from './proc';
import { boolFlag, intFlag, intListFlag, scriptArgs } from '../cli/args';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface PipelineBenchOptions {
  /** @default 50_000 (5_000 when quick) */
  users?: number;
  /** Smoke run of the harness on a small file. @default false */
  quick?: boolean;
  /** Worker process counts to measure, in order. @default [1, 2] */
  workers?: number[];
  /** Extra environment for the worker processes (a knob under test). @default {} */
  workerEnv?: NodeJS.ProcessEnv;
  /** @default 42 */
  seed?: number;
}

export interface PipelineBenchRun {
  ingest_s: number;
  /**
   * A bare driver cursor over exactly the snapshot's read (store/users.ts SNAPSHOT_READ: every
   * user, same projection), documents counted and dropped, after the ingest and before the run:
   * what the server alone needs to hand the snapshot its users.
   */
  bare_read_s: number;
  bare_read_docs: number;
  pipeline_s: number;
  grid_s: number;
  /** Seconds per recorded stage (snapshot, grid-search, threshold, refit, register, promotion). */
  stages_s: Record<string, number>;
  /** Cells per worker process, in start order (w1, w2, ...). */
  cells_per_worker: Record<string, number>;
  /** Sum of the cells' fit times divided by the grid's wall time (> 1 means cells overlapped). */
  cell_fit_s_total: number;
  /** Peak RSS (VmHWM) per worker process. */
  peak_rss_mb: Record<string, number>;
  /** Peak RSS (VmHWM) of the database server over the ingest and the run (null: an external server). */
  server_peak_rss_mb: number | null;
  /** Largest RSS seen per stage (sampled every 200 ms; ingest and bare_read included), per process: w1.., server. */
  stage_rss_mb: Record<string, Record<string, number>>;
  load_avg_during: number[];
}

export type PipelineBenchResult = { users: number; load_avg: { before: number[]; after: number[] } } & Record<string, unknown>;

interface Worker { proc: ChildProcess; identity: string; ready: Promise<void>; exited: Promise<void> }

function startWorker(env: NodeJS.ProcessEnv, name: string): Worker {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'retail24.mjs'), 'worker'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const w: Worker = {
    proc, identity: name,
    exited: new Promise((r) => proc.once('exit', () => r())),
    ready: new Promise((resolve, reject) => {
      const on = (d: Buffer) => {
        out += d.toString();
        const m = /as (\S+)\s*$/m.exec(out);
        if (out.includes('polling task queue') && m) {
          w.identity = m[1]!;
          resolve();
        }
      };
      proc.stdout!.on('data', on);
      proc.stderr!.on('data', on);
      proc.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${out.slice(-2000)}`)));
    }),
  };
  w.ready.catch(() => undefined);
  return w;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const load = () => loadavg().map((x) => round(x, 2));

async function measure(stack: LocalStack, client: Client, csv: string, n: number, opts: PipelineBenchOptions): Promise<PipelineBenchRun> {
  const server = serverPid(stack);
  if (server !== null) resetPeak(server);
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...opts.workerEnv,
    TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.temporalNamespace, MONGODB_URI: stack.mongoUri,
    MONGODB_DB: `bench_pipeline_${n}w_${randomBytes(3).toString('hex')}`, TASK_QUEUE: `bench-${randomBytes(4).toString('hex')}`,
  };
  // The client side reads only the defaults (PARAM_GRID, CV_FOLDS, GRID_CONCURRENCY) unless the caller's shell sets them.
  const config = loadConfig(env);
  const store = await connectStore(config.MONGODB_URI!, config.MONGODB_DB);
  const workers = Array.from({ length: n }, (_, i) => startWorker(env, `w${i + 1}`));
  try {
    await Promise.all(workers.map((w) => w.ready));
    // RSS of every process sampled through the run, the largest per stage
    const stage_rss_mb: Record<string, Record<string, number>> = {};
    let stage = 'ingest';
    const procs = () => [...workers.map((w, i) => [`w${i + 1}`, workerPid(w.proc.pid!)] as const), ...(server === null ? [] : [['server', server] as const])];
    const sampler = setInterval(() => {
      const at = (stage_rss_mb[stage] ??= {});
      for (const [name, pid] of procs()) at[name] = Math.max(at[name] ?? 0, procStatusMb(pid, 'VmRSS') || 0);
    }, 200);
    const tIngest = performance.now();
    await ingestViaWorkflow(client, store.db, config, csv);
    stage = 'bare_read';
    const ingest_s = (performance.now() - tIngest) / 1000;
    const tRead = performance.now();
    let bare_read_docs = 0;
    for await (const _ of store.db.collection(COLLECTIONS.users).find(SNAPSHOT_READ.filter, { projection: SNAPSHOT_READ.projection, batchSize: SNAPSHOT_READ.batchSize })) bare_read_docs++;
    const bare_read_s = (performance.now() - tRead) / 1000;

    const t0 = performance.now();
    const handle = await startTraining(client, config, 'manual', `bench pipeline ${n} worker(s)`);
    const seen: [string, number][] = [];
    const loads: number[] = [];
    let done = false;
    const poll = (async () => {
      while (!done) {
        const run = await getRun(store.db, handle.workflowId).catch(() => null);
        const s = run?.stage;
        if (s && seen[seen.length - 1]?.[0] !== s) {
          seen.push([s, performance.now()]);
          stage = s;
        }
        if (loads.length < (performance.now() - t0) / 30_000) loads.push(round(loadavg()[0]!, 2));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await handle.result().finally(() => clearInterval(sampler));
    const tEnd = performance.now();
    done = true;
    await poll;
    const stages_s: Record<string, number> = {};
    seen.forEach(([s, t], i) => (stages_s[s] = round(((seen[i + 1]?.[1] ?? tEnd) - t) / 1000, 2)));

    const cells = await store.db.collection(COLLECTIONS.cvCells).find({ runId: handle.workflowId }).toArray();
    const byId = new Map(workers.map((w) => [w.identity, 0]));
    for (const c of cells) byId.set(c.workerIdentity as string, (byId.get(c.workerIdentity as string) ?? 0) + 1);
    const cells_per_worker = Object.fromEntries(workers.map((w, i) => [`w${i + 1}`, byId.get(w.identity) ?? 0]));
    return {
      ingest_s: round(ingest_s), bare_read_s: round(bare_read_s), bare_read_docs, pipeline_s: round((tEnd - t0) / 1000), grid_s: stages_s['grid-search'] ?? NaN, stages_s, cells_per_worker,
      cell_fit_s_total: round(cells.reduce((a, c) => a + (c.fitMs as number), 0) / 1000),
      peak_rss_mb: Object.fromEntries(workers.map((w, i) => [`w${i + 1}`, procStatusMb(workerPid(w.proc.pid!), 'VmHWM')])),
      server_peak_rss_mb: server === null ? null : procStatusMb(server, 'VmHWM'),
      stage_rss_mb,
      load_avg_during: loads,
    };
  } finally {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await store.db.dropDatabase().catch(() => undefined);
    await store.close();
  }
}

/** Runs the benchmark; returns `{ users, workers_1, workers_2, load_avg }` and writes bench/results/pipeline-<date>.json. */
export async function runPipelineBench(opts: PipelineBenchOptions = {}): Promise<PipelineBenchResult> {
  const users = opts.users ?? (opts.quick ? 5_000 : 50_000);
  if (!Number.isInteger(users) || users < 100) throw new RangeError(`users must be an integer >= 100, got ${users}`);
  const counts = opts.workers ?? [1, 2];
  for (const n of counts) if (!Number.isInteger(n) || n < 1 || n > 8) throw new RangeError(`workers must be integers 1-8, got ${n}`);
  const tmp = mkdtempSync(join(tmpdir(), 'retail24-bench-pipeline-'));
  let stack: LocalStack | null = null;
  const before = load();
  try {
    stack = await startLocalStack({ root: ROOT, dataDir: join(tmp, 'stack'), freePorts: true, env: { ...process.env, TEMPORAL_ADDRESS: '', MONGODB_URI: '' } });
    const csv = join(tmp, 'users.csv');
    await generateToFiles({ users, seed: opts.seed ?? 42, out: csv });
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: stack.temporalNamespace });
    const result: PipelineBenchResult = { users, load_avg: { before, after: [] } };
    try {
      for (const n of counts) result[`workers_${n}`] = await measure(stack, client, csv, n, opts);
    } finally {
      await connection.close();
    }
    result.load_avg.after = load();
    const date = new Date().toISOString();
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    const cfg = loadConfig(process.env); // the grid the measured runs used (measure() reads the same environment)
    writeFileSync(join(out, `pipeline-${date.slice(0, 10)}${opts.quick ? '-quick' : ''}.json`), `${JSON.stringify({
      bench: 'pipeline', date, node: process.version, cpu: cpus()[0]?.model, cores: cpus().length,
      param_grid: cfg.PARAM_GRID, cv_folds: cfg.CV_FOLDS, grid_concurrency: cfg.GRID_CONCURRENCY, worker_env: opts.workerEnv ?? {}, ...result,
    }, null, 2)}\n`);
    return result;
  } finally {
    await stack?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const a = scriptArgs({ quick: 'boolean', users: 'string', workers: 'string', json: 'boolean' }, 'bench/pipeline.ts [--quick] [--users N] [--workers 1,2] [--json]');
  const r = await runPipelineBench({
    quick: boolFlag(a, 'quick'),
    users: a.flags.users === undefined ? undefined : intFlag(a, 'users', 0, 1, 100_000_000),
    workers: intListFlag(a, 'workers', 1, 64),
  });
  console.log(JSON.stringify(r, null, boolFlag(a, 'json') ? 0 : 2));
}
