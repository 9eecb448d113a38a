/**
 * Memory of the real worker process (issue 3: a 1,000,000-user ingest under 500 MB RSS).
 * Starts `node bin/retail24.mjs worker` exactly as `up` does, runs the ingest workflow (and with
 * `--train` the training pipeline) against it, and reads the worker's /proc/<pid>/status:
 * the kernel's peak (VmHWM, reset through clear_refs at each phase start) and VmRSS samples.
 *
 *   npx tsx bench/ingest-worker.ts [--users N] [--csv file] [--train] [--grid JSON] [--label L] [--json]
 *
 * `--node-options "<flags>"` sets NODE_OPTIONS for the worker (to compare heap settings).
 * Writes bench/results/ingest-worker-<users>-<date>[-label].json.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { generateToFiles } from '../data/generator';
import { startLocalStack, type LocalStack } from '../stack/local-stack';
import { procStatusMb, resetPeak, workerPid } from './proc';
import { freePort } from '../stack/ports';
import { loadConfig } from '../config';
import { connectStore } from '../store/db';
import { getRun } from '../store/runs';
import { ingestViaWorkflow, startTraining } from '../client/pipeline';
import { boolFlag, intFlag, scriptArgs, strFlag } from '../cli/args';
import { closeBenchStack, closeBenchStore } from './site';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface WorkerMemoryOptions {
  /** @default 1_000_000 */
  users?: number;
  /** Reuse an already generated file of `users` rows. @default generate into a temp dir */
  csv?: string;
  /** Also run the training pipeline after the ingest. @default false */
  train?: boolean;
  /** PARAM_GRID of the training run (memory, not speed, is measured). @default '{"nEstimators":[50],"maxDepth":[10]}' */
  grid?: string;
  /** NODE_OPTIONS of the worker process. @default inherited */
  nodeOptions?: string;
  label?: string;
}

const status = procStatusMb;
const MB = 2 ** 20;

export async function runWorkerMemoryBench(opts: WorkerMemoryOptions = {}) {
  const users = opts.users ?? 1_000_000;
  const tmp = mkdtempSync(join(tmpdir(), 'retail24-bench-wmem-'));
  let stack: LocalStack | null = null;
  const load = { before: loadavg().map((x) => +x.toFixed(2)), after: [] as number[] };
  try {
    stack = await startLocalStack({ root: ROOT, dataDir: join(tmp, 'stack'), freePorts: true, env: { ...process.env, TEMPORAL_ADDRESS: '', MONGODB_URI: '' } });
    const csv = opts.csv ?? join(tmp, 'users.csv');
    if (!opts.csv || !existsSync(csv)) await generateToFiles({ users, seed: 42, out: csv });
    const env: NodeJS.ProcessEnv = {
      ...process.env, TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.temporalNamespace, MONGODB_URI: stack.mongoUri,
      MONGODB_DB: `bench_wmem_${randomBytes(3).toString('hex')}`, TASK_QUEUE: `wmem-${randomBytes(4).toString('hex')}`,
      PARAM_GRID: opts.grid ?? '{"nEstimators":[50],"maxDepth":[10]}',
      // the worker's own gauges (V8 heap, off-heap buffers), scraped beside /proc's RSS
      HOST: '127.0.0.1', WORKER_METRICS_PORT: String(await freePort()),
      ...(opts.nodeOptions !== undefined ? { NODE_OPTIONS: opts.nodeOptions } : {}),
    };
    const config = loadConfig(env);
    const store = await connectStore(config.MONGODB_URI!, config.MONGODB_DB);
    const proc = spawn(process.execPath, [join(ROOT, 'bin', 'retail24.mjs'), 'worker'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    await new Promise<void>((resolve, reject) => {
      const on = (d: Buffer) => { out += d.toString(); if (out.includes('polling task queue')) resolve(); };
      proc.stdout!.on('data', on);
      proc.stderr!.on('data', on);
      proc.once('exit', (c) => reject(new Error(`worker exited (${c}):\n${out.slice(-2000)}`)));
    });
    const pid = workerPid(proc.pid!);
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: stack.temporalNamespace });
    const phases: Record<string, { peak_mb: number; seconds: number; heap_mb?: number; external_mb?: number }> = {};
    // Where the RSS is: the largest V8 heap and off-heap (ArrayBuffer) figures the worker reported in each phase.
    const gauges = { heap: 0, external: 0 };
    const scrape = async () => {
      const text = await fetch(`http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`).then((r) => r.text()).catch(() => '');
      const g = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      gauges.heap = Math.max(gauges.heap, g('nodejs_heap_size_total_bytes') / MB || 0);
      gauges.external = Math.max(gauges.external, g('nodejs_external_memory_bytes') / MB || 0);
    };
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        await scrape();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const startup_peak_mb = status(pid, 'VmHWM');
    await new Promise((r) => setTimeout(r, 2000));
    const idle_rss_mb = status(pid, 'VmRSS');
    let phase = 'ingest';
    let phaseStart = performance.now();
    const close = (next: string | null) => {
      phases[phase] = { peak_mb: status(pid, 'VmHWM'), seconds: +((performance.now() - phaseStart) / 1000).toFixed(1), heap_mb: Math.round(gauges.heap), external_mb: Math.round(gauges.external) };
      gauges.heap = 0;
      gauges.external = 0;
      if (next) { phase = next; phaseStart = performance.now(); resetPeak(pid); }
    };
    try {
      resetPeak(pid);
      const ingest = await ingestViaWorkflow(client, store.db, config, csv);
      close(null);
      if (opts.train) {
        const handle = await startTraining(client, config, 'manual', 'worker memory bench');
        phase = 'starting';
        phaseStart = performance.now();
        resetPeak(pid);
        let done = false;
        const poll = (async () => {
          while (!done) {
            const s = (await getRun(store.db, handle.workflowId).catch(() => null))?.stage;
            if (s && s !== phase) close(s);
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        await handle.result();
        done = true;
        await poll;
        close(null);
      }
      load.after = loadavg().map((x) => +x.toFixed(2));
      const result = {
        users, label: opts.label ?? null, node_options: env.NODE_OPTIONS ?? '', rows_ingested: ingest.inserted + ingest.updated + ingest.unchanged,
        startup_peak_mb, idle_rss_mb, phases, overall_peak_mb: Math.max(startup_peak_mb, ...Object.values(phases).map((p) => p.peak_mb)), load_avg: load,
      };
      const dir = join(ROOT, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `ingest-worker-${users}-${new Date().toISOString().slice(0, 10)}${opts.label ? `-${opts.label}` : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
      return result;
    } finally {
      scraping = false;
      await scraper;
      proc.kill('SIGTERM');
      await exited;
      await closeBenchStore(connection, store);
    }
  } finally {
    await closeBenchStack(stack, tmp);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const a = scriptArgs({ users: 'string', csv: 'string', train: 'boolean', grid: 'string', 'node-options': 'string', label: 'string', json: 'boolean' });
  const r = await runWorkerMemoryBench({
    users: a.flags.users === undefined ? undefined : intFlag(a, 'users', 0, 1, 100_000_000), csv: strFlag(a, 'csv'), train: boolFlag(a, 'train'),
    grid: strFlag(a, 'grid'), nodeOptions: strFlag(a, 'node-options'), label: strFlag(a, 'label'),
  });
  console.log(JSON.stringify(r, null, boolFlag(a, 'json') ? 0 : 2));
}
