/**
 * `retail24 bench predict`: single-user throughput and latency of the real API (production model
 * of 200 trees, MongoDB behind it, prediction logging on) with autocannon on loopback, at 1 and 2
 * API processes, beside a constant Express endpoint and FastAPI + scikit-learn with a forest of the
 * same size. Writes bench/results/predict-<date>.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../stack/ports';
import { startLocalStack } from '../stack/local-stack';
import { connectStore } from '../store/db';
import { loadDataset } from '../store/datasets';
import { countLoggedPredictions } from '../store/predictions';
import { readUsers, registerFixtureModel, SAMPLE_CSV } from '../testkit/model-fixture';
import { boolFlag, scriptArgs, UsageError } from '../cli/args';
import { ensureVenv } from './venv';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'Retail24RandomForestClassifier';
const TREES = 200;
const DEPTH = 10;
const PY_DEPS = ['fastapi==0.115.12', 'uvicorn==0.34.2', 'scikit-learn==1.6.1', 'numpy==2.2.6'];

/** autocannon connections per phase of measure() */
const CONNECTIONS = { warm: 8, peak: 32, steady: 16 };
/** Requests autocannon can leave in flight over one measure(): one per connection per phase. */
const IN_FLIGHT_MAX = CONNECTIONS.warm + CONNECTIONS.peak + CONNECTIONS.steady;

/** The services one run compares, by result key. */
export const PREDICT_SERVICES = ['retail24', 'retail24_2proc', 'express_constant', 'fastapi_sklearn'];

export interface ServiceResult {
  peak_rps: number;
  p50_ms: number;
  p99_ms: number;
  batch1000_ms: number;
  /** requests that were not 2xx or errored, over all phases */
  failed: number;
  /**
   * CPU time (user + system) the server process and its children spent per request during the
   * peak phase, in µs: unlike rps it hardly depends on what else the shared machine runs.
   */
  cpu_us_per_req: number | null;
  /** users scored with a 2xx answer over all phases */
  served: number;
  /**
   * retail24 only: prediction records in MongoDB after the server stopped (it flushes on SIGTERM).
   * The log lost nothing when served <= logged <= served + IN_FLIGHT_MAX: autocannon does not count
   * the answers to requests still in flight when a phase ends, but the server scored them.
   */
  logged?: number;
}

/** utime + stime in µs of `pid` and its children (cluster workers), from /proc; null elsewhere. */
function processTreeCpuUs(pid: number): number | null {
  try {
    const tick = 1e6 / 100; // USER_HZ is 100 on Linux
    const one = (p: number): number => {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * tick; // fields 14 and 15: utime, stime
    };
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.reduce((s, k) => s + one(k), one(pid));
  } catch {
    return null;
  }
}

/** Spawns a server and waits for its "listening" line. */
async function spawnServer(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')} did not start within 120 s: ${err}`)), 120_000);
    child.stdout!.on('data', (d) => {
      if (String(d).includes('listening')) { clearTimeout(t); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`${cmd} exited with ${code}: ${err}`)); });
  });
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function cannon(url: string, body: string, opts: { connections: number; duration: number; overallRate?: number }) {
  const r = await autocannon({ url: `${url}/v1/predict`, method: 'POST', headers: { 'content-type': 'application/json' }, body, ...opts });
  return { rps: r.requests.average, total: r.requests.total, ok: r['2xx'], p50: r.latency.p50, p99: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts };
}

/** Peak throughput, then latency at a steady 1,000 req/s, then the batch of 1,000 users (median). */
async function measure(url: string, single: string, batch: string, quick: boolean, pid: number): Promise<ServiceResult> {
  const dur = quick ? 4 : 10;
  const warm = await cannon(url, single, { connections: CONNECTIONS.warm, duration: 2 }); // warm-up: JIT, connections, caches
  const cpu0 = processTreeCpuUs(pid);
  const peak = await cannon(url, single, { connections: CONNECTIONS.peak, duration: dur });
  const cpu1 = processTreeCpuUs(pid);
  const steady = await cannon(url, single, { connections: CONNECTIONS.steady, duration: dur, overallRate: 1000 });
  const times: number[] = [];
  let failed = peak.failed + steady.failed;
  // the batch path has not run yet: its first calls compile it, so they are warm-up, not samples
  const batchUsers = (JSON.parse(batch) as unknown[]).length;
  let served = warm.ok + peak.ok + steady.ok;
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batch });
    await res.arrayBuffer();
    if (res.ok) served += batchUsers;
  }
  for (let i = 0; i < (quick ? 5 : 15); i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batch });
    await res.arrayBuffer();
    if (!res.ok) failed++;
    else served += batchUsers;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const cpuPerReq = cpu0 !== null && cpu1 !== null && peak.total > 0 ? Math.round((cpu1 - cpu0) / peak.total) : null;
  return { peak_rps: Math.round(peak.rps), p50_ms: r2(steady.p50), p99_ms: r2(steady.p99), batch1000_ms: r2(times[Math.floor(times.length / 2)]!), failed, cpu_us_per_req: cpuPerReq, served };
}

function ensurePythonVenv(): string | null {
  const v = ensureVenv('venv-predict', { packages: PY_DEPS }, 'import fastapi, uvicorn, sklearn');
  return 'python' in v ? v.python : null;
}

/** Runs the whole comparison; `quick` shortens every phase (CI smoke, not for quoting). */
export async function runPredictBench({ quick = false, only }: { quick?: boolean; /** run these services only (experiments); the result file then says so in its name */ only?: string[] } = {}) {
  const bad = only?.find((k) => !PREDICT_SERVICES.includes(k));
  if (bad !== undefined) throw new UsageError(`--only: unknown service ${JSON.stringify(bad)} (known: ${PREDICT_SERVICES.join(', ')})`);
  const want = (key: string) => !only || only.includes(key);
  const loadBefore = os.loadavg();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'retail24-bench-predict-'));
  const stack = await startLocalStack({ root, dataDir, freePorts: true, env: { ...process.env, TEMPORAL_ADDRESS: '', MONGODB_URI: '' } });
  const children: ChildProcess[] = [];
  try {
    const dbName = `bench_predict_${Date.now()}`;
    const store = await connectStore(stack.mongoUri, dbName);
    const users = await readUsers(SAMPLE_CSV);
    const version = await registerFixtureModel(store.db, { modelName: MODEL, nEstimators: TREES, maxDepth: DEPTH }, users);
    const ds = (await loadDataset(store.db, version.datasetId))!;
    const raw = users.slice(0, 1000).map((u) => ({ user_id: u.userId, first_open: new Date(u.firstOpen).toISOString().replace('T', ' ').slice(0, 19), screen_list: u.screens.join(','), age: u.age }));
    const single = JSON.stringify(raw[0]);
    const batch = JSON.stringify(raw);
    const results: Record<string, ServiceResult | { error: string }> = {};

    for (const processes of [1, 2]) {
      if (!want(processes === 1 ? 'retail24' : 'retail24_2proc')) continue;
      const port = await freePort();
      const env = { ...process.env, MONGODB_URI: stack.mongoUri, MONGODB_DB: dbName, PORT: String(port), HOST: '127.0.0.1', API_PROCESSES: String(processes), MODEL_NAME: MODEL, TEMPORAL_ADDRESS: stack.temporalAddress };
      const child = await spawnServer(process.execPath, ['--import', 'tsx', 'bench/predict-server.ts'], env);
      children.push(child);
      const before = await countLoggedPredictions(store.db);
      const m = await measure(`http://127.0.0.1:${port}`, single, batch, quick, child.pid!);
      await stopServer(child);
      m.logged = (await countLoggedPredictions(store.db)) - before;
      results[processes === 1 ? 'retail24' : 'retail24_2proc'] = m;
    }

    if (want('express_constant')) {
      const cport = await freePort();
      const constant = await spawnServer(process.execPath, ['--import', 'tsx', 'bench/predict_express_constant.ts'], { ...process.env, PORT: String(cport) });
      children.push(constant);
      results.express_constant = await measure(`http://127.0.0.1:${cport}`, single, batch, quick, constant.pid!);
      await stopServer(constant);
    }

    const py = want('fastapi_sklearn') ? ensurePythonVenv() : null;
    if (!want('fastapi_sklearn')) { /* not asked for */ } else if (!py) results.fastapi_sklearn = { error: 'python venv with fastapi/uvicorn/scikit-learn could not be created' };
    else {
      const { X, train } = ds.arrays;
      const cols = ds.doc.cols;
      const Xt: number[] = [];
      for (const i of train) for (let j = 0; j < cols; j++) Xt.push(X[i * cols + j]!);
      const trainFile = path.join(dataDir, 'train.json');
      writeFileSync(trainFile, JSON.stringify({ spec: ds.doc.spec, X: Xt, rows: train.length, cols, y: Array.from(train, (i) => ds.arrays.y[i]), nEstimators: TREES, maxDepth: DEPTH }));
      const pport = await freePort();
      const fast = await spawnServer(py, ['bench/predict_fastapi.py', trainFile, String(pport)], process.env);
      children.push(fast);
      results.fastapi_sklearn = await measure(`http://127.0.0.1:${pport}`, single, batch, quick, fast.pid!);
      await stopServer(fast);
    }
    await store.db.dropDatabase().catch(() => undefined);
    await store.close();

    const ok = (k: string): ServiceResult | undefined => { const v = results[k]; return v && 'peak_rps' in v ? v : undefined; };
    const r = ok('retail24');
    const c = ok('express_constant');
    const f = ok('fastapi_sklearn');
    const ratio = (x: number, y: number) => Math.round((x / y) * 1000) / 1000;
    const cpuRatio = r?.cpu_us_per_req && c?.cpu_us_per_req ? ratio(r.cpu_us_per_req, c.cpu_us_per_req) : null;
    const out = {
      ...results,
      // issue 12 §4: CPU per request <= 1.2x the constant endpoint's, peak >= 0.85 of it, a batch of
      // 1,000 <= 15 ms, zero failures; null where a service was not run
      goals: {
        cpu_per_req_over_constant: cpuRatio,
        cpu_per_req_at_most_1_2x: cpuRatio === null ? null : cpuRatio <= 1.2,
        share_of_constant: r && c ? ratio(r.peak_rps, c.peak_rps) : null,
        share_of_constant_at_least_0_85: r && c ? r.peak_rps >= 0.85 * c.peak_rps : null,
        batch1000_at_most_15ms: r ? r.batch1000_ms <= 15 : null,
        no_failed_requests: r ? r.failed === 0 && (ok('retail24_2proc')?.failed ?? 0) === 0 : null,
        prediction_log_lost_nothing: r ? [r, ok('retail24_2proc')].every((x) => !x || (x.logged! >= x.served && x.logged! <= x.served + IN_FLIGHT_MAX)) : null,
        p99_under_5ms_at_1000rps: r ? r.p99_ms < 5 : null,
        times_fastapi: r && f ? Math.round((r.peak_rps / f.peak_rps) * 10) / 10 : null,
        times_fastapi_at_least_10: r && f ? r.peak_rps >= 10 * f.peak_rps : null,
      },
      meta: {
        quick, ...(only ? { only } : {}), trees: TREES, maxDepth: DEPTH, features: ds.doc.cols, cpus: os.cpus().length, node: process.version,
        loadavg_before: loadBefore.map((x) => Math.round(x * 100) / 100), loadavg_after: os.loadavg().map((x) => Math.round(x * 100) / 100),
        note: 'autocannon runs on the same machine as the servers and shares its cores; single-user body is one sample user',
        at: new Date().toISOString(),
      },
    };
    const dir = path.join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `predict-${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}${only ? `-${only.join('+')}` : ''}.json`), `${JSON.stringify(out, null, 2)}\n`);
    return out;
  } finally {
    await Promise.all(children.map(stopServer));
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const a = scriptArgs({ quick: 'boolean', only: 'string' }, 'bench/predict.ts [--quick] [--only retail24,express_constant]');
  const only = typeof a.flags.only === 'string' ? a.flags.only.split(',') : undefined;
  console.log(JSON.stringify(await runPredictBench({ quick: boolFlag(a, 'quick'), only }), null, 2));
}
