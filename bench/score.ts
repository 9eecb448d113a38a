/**
 * Scoring benchmark (`retail24 bench score [--quick] [--json]`, or `npx tsx bench/score.ts
 * [--users N] [--max-minutes M] [--json]`): N stored users scored end to end by the real worker
 * process (`scoreNow` → plan, every job, finish: read, transform, score, write), beside
 * the store's ceiling measured in the same run on the same server: one bare-driver cursor over
 * the same user documents and `insertMany` of N score-shaped documents in batches of 1,000.
 * Then the member export of the top 100 % audience (all N users) streamed to a file through
 * `audienceMembers`, with this process's RSS sampled, to show its memory stays bounded.
 *
 * Starts a private FerretDB/Temporal stack in a temp dir on free ports; writes
 * bench/results/score-<date>.json (`-quick` with --quick) and returns the same object. A scoring
 * run that fails or outlasts `--max-minutes` is terminated and leaves score-<date>-failed.json.
 */
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { Db } from 'mongodb';
import { generateToFiles } from '../data/generator';
import { readUserLogs } from '../data/csv-reader';
import { transformBatch } from '../data/features';
import { maturesAt, type UserRecord } from '../data/record';
import { startLocalStack, type LocalStack } from '../stack/local-stack';
import { loadConfig } from '../config';
import { connectStore } from '../store/db';
import { COLLECTIONS } from '../store/collections';
import { writeUserChunk } from '../store/users';
import { finishBatch, openBatch, recordValidation } from '../store/batches';
import { countScores, scoreId, type ScoreDoc } from '../store/scores';
import { loadVersion } from '../store/model-loader';
import { scoreNow } from '../client/scoring';
import { MEMBER_CSV_HEADER, audienceMembers, memberLine, productionPopulation } from '../client/audiences';
import { scoreWorkflowId } from '../common/constants';
import { readUsers, registerFixtureModel } from '../testkit/model-fixture';
import { startWorkerProcess } from '../testkit/worker-process';
import { cpuSeconds, procStatusMb, resetPeak, serverPid, workerPid } from './proc';
import { boolFlag, intFlag, numFlag, scriptArgs } from '../cli/args';
import { closeBenchStack, closeBenchStore } from './site';

export interface ScoreBenchOptions {
  /** Stored users to score. @default 1_000_000, or 20_000 when quick */
  users?: number;
  quick?: boolean;
  /** @default 42 */
  seed?: number;
  /** Give up on the scoring run after this long (terminate it, write score-<date>-failed.json). @default 120 */
  maxMinutes?: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODEL = 'BenchScore';
/** The default grid's size class (100 trees, depth 10), fitted on a sample as a production model is. */
const TREES = 100;
const DEPTH = 10;
const FIT_USERS = 20_000;
const WRITE_ROWS = 1000;
const CEILING_BATCH = 1000;
const MB = 2 ** 20;

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
const status = procStatusMb;
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Server CPU seconds and peak RSS over one phase (reset at its start). */
function serverMeter(pid: number | null) {
  if (pid === null) return () => ({ server_cpu_s: null, server_peak_mb: null });
  resetPeak(pid);
  const cpu0 = cpuSeconds(pid);
  return () => ({ server_cpu_s: r1(cpuSeconds(pid) - cpu0), server_peak_mb: status(pid, 'VmHWM') });
}

async function* records(csv: string): AsyncGenerator<UserRecord> {
  for await (const row of readUserLogs(createReadStream(csv), { fileName: csv })) if (row.kind === 'ok') yield row.record;
}

/**
 * Stores the file's users as one finished ingest batch observed after every window and purchase
 * (two passes: asOf, then chunks). The batch record matters: without one the data's time falls
 * back to the newest first open, a sort FerretDB cannot push down (seconds per 20k users).
 */
async function storeUsers(db: Db, csv: string): Promise<number> {
  let asOf = 0;
  let read = 0;
  for await (const u of records(csv)) { asOf = Math.max(asOf, maturesAt(u.firstOpen), u.purchaseDate ?? 0); read++; }
  const batchId = 'bench-score';
  const now = new Date();
  await openBatch(db, { _id: batchId, fileName: csv, uploadId: batchId, bytes: statSync(csv).size, checksum: batchId, mappingHash: null, timezone: 'UTC' }, now);
  await recordValidation(db, batchId, { read, rejected: 0, superseded: 0, asOf, asOfSource: 'latest-in-file' });
  const counts = { read, inserted: 0, updated: 0, unchanged: 0, superseded: 0, rejected: 0, pending: 0 };
  let chunk: UserRecord[] = [];
  const write = async () => {
    const c = await writeUserChunk(db, batchId, chunk, now, asOf);
    counts.inserted += c.inserted; counts.updated += c.updated; counts.unchanged += c.unchanged; counts.pending += c.pending;
    chunk = [];
  };
  for await (const u of records(csv)) {
    chunk.push(u);
    if (chunk.length >= WRITE_ROWS) await write();
  }
  if (chunk.length > 0) await write();
  await finishBatch(db, batchId, counts, new Date());
  return counts.inserted;
}

/**
 * The store's ceiling: one cursor over the users (the plan's batch size), each turned into a
 * ScoreDoc and inserted 1,000 at a time into a scratch collection with the scores' indexes,
 * so it pays the same index maintenance as real scores.
 */
async function ceiling(db: Db, modelName: string, version: number) {
  const scratch = db.collection<ScoreDoc>(`bench_ceiling_${randomBytes(3).toString('hex')}`);
  // the scores collection's own indexes (none on FerretDB, where ensureIndexes makes only unique ones and the collection may not exist yet)
  for (const ix of await db.collection(COLLECTIONS.scores).listIndexes().toArray().catch(() => [])) if (ix.name !== '_id_') await scratch.createIndex(ix.key);
  const scoredAt = new Date();
  let n = 0;
  let insertMs = 0;
  let batch: ScoreDoc[] = [];
  let x = 0x9e3779b9;
  const flush = async () => {
    const t = performance.now();
    n += (await scratch.insertMany(batch, { ordered: false })).insertedCount;
    insertMs += performance.now() - t;
    batch = [];
  };
  const t0 = performance.now();
  for await (const u of db.collection<{ _id: string; firstOpen: number }>(COLLECTIONS.users).find({}, { batchSize: 2000 })) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0; // spread probabilities as real scores do, for the index
    const p = x / 2 ** 32;
    batch.push({ _id: scoreId(modelName, version, u._id), modelName, version, userId: u._id, probability: p, percentile: Math.round(p * 100), decision: p >= 0.5, audiences: {}, firstOpen: u.firstOpen, windowClosesAt: maturesAt(u.firstOpen), scoredAt });
    if (batch.length >= CEILING_BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  const seconds = (performance.now() - t0) / 1000;
  await scratch.drop();
  return { users: n, seconds, read_s: seconds - insertMs / 1000, insert_s: insertMs / 1000 };
}

/** Plan, jobs and finish from the workflow's history (scheduled → completed, per activity type). */
async function activityTimings(client: Client, workflowId: string) {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const acts = new Map<string, { type: string; scheduled: number; started?: number; completed?: number }>();
  // Only an activity's last attempt is in the history; its attempt number counts the retries before it.
  let retries = 0;
  for (const e of events) {
    const at = tsToMs(e.eventTime);
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) acts.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', scheduled: at });
    const s = e.activityTaskStartedEventAttributes;
    if (s) { acts.get(String(s.scheduledEventId))!.started = at; retries += (s.attempt ?? 1) - 1; }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) acts.get(String(c.scheduledEventId))!.completed = at;
  }
  const of = (t: string) => [...acts.values()].filter((a) => a.type === t && a.completed !== undefined);
  const span = (l: { scheduled: number; completed?: number }[]) => (l.length ? (Math.max(...l.map((a) => a.completed!)) - Math.min(...l.map((a) => a.scheduled))) / 1000 : 0);
  // Jobs are scheduled in job order (runBounded), and the map keeps scheduling order.
  const inOrder = of('scoreJob').map((a) => (a.completed! - (a.started ?? a.scheduled)) / 1000);
  const jobs = [...inOrder].sort((a, b) => a - b);
  const tenth = Math.max(1, Math.floor(inOrder.length / 10));
  const mean = (l: number[]) => r3(l.reduce((a, b) => a + b, 0) / Math.max(1, l.length));
  return {
    plan_s: r1(span(of('planScoring'))), jobs_s: r1(span(of('scoreJob'))), finish_s: r3(span(of('finishScoring'))),
    job_s_median: r3(jobs[Math.floor(jobs.length / 2)] ?? 0), job_s_max: r3(jobs[jobs.length - 1] ?? 0), job_s_sum: r1(jobs.reduce((a, b) => a + b, 0)),
    job_s_first_tenth_mean: mean(inOrder.slice(0, tenth)), job_s_last_tenth_mean: mean(inOrder.slice(-tenth)), retries,
  };
}


/** Streams the top 100 % audience to a CSV as `retail24 audience --out` does, sampling RSS every 20 ms. */
async function exportMembers(db: Db, file: string) {
  const rss = () => process.memoryUsage.rss() / MB;
  const before = rss();
  const t0 = performance.now();
  const pop = await productionPopulation(db, MODEL);
  const tPop = performance.now();
  const afterPop = rss();
  resetPeak('self');
  let peak = afterPop;
  const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 20);
  const out = createWriteStream(file);
  out.write(MEMBER_CSV_HEADER);
  let rows = 0;
  try {
    for await (const row of audienceMembers(db, pop, { kind: 'top_percent', percent: 100 })) {
      if (!out.write(memberLine(row, 'csv'))) await once(out, 'drain');
      rows++;
    }
    out.end();
    await once(out, 'finish');
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - tPop) / 1000;
  return {
    rows, seconds: r1(seconds), rows_per_s: Math.round(rows / seconds), population_s: r1((tPop - t0) / 1000), file_mb: r1(statSync(file).size / MB),
    rss_before_mb: Math.round(before), rss_after_population_mb: Math.round(afterPop), rss_peak_sampled_mb: Math.round(peak),
    vmhwm_during_export_mb: status('self', 'VmHWM'), rss_delta_export_mb: Math.round(peak - afterPop),
  };
}

function writeResult(name: string, result: object): void {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `${JSON.stringify(result, null, 2)}\n`);
}

/** Runs the benchmark; returns the result and writes bench/results/score-<date>.json. */
export async function runScoreBench(opts: ScoreBenchOptions = {}) {
  const users = opts.users ?? (opts.quick ? 20_000 : 1_000_000);
  if (!Number.isInteger(users) || users < 1000) throw new RangeError(`users must be an integer ≥ 1000, got ${users}`);
  const seed = opts.seed ?? 42;
  const load = { start: loadavg(), end: [] as number[] };
  const tmp = mkdtempSync(join(tmpdir(), 'retail24-bench-score-'));
  let stack: LocalStack | null = null;
  try {
    stack = await startLocalStack({ root: ROOT, dataDir: join(tmp, 'stack'), freePorts: true, env: { ...process.env, TEMPORAL_ADDRESS: '', MONGODB_URI: '' } });
    const server = serverPid(stack);
    const env: NodeJS.ProcessEnv = {
      ...process.env, TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.temporalNamespace, MONGODB_URI: stack.mongoUri,
      MONGODB_DB: `bench_score_${randomBytes(3).toString('hex')}`, TASK_QUEUE: `score-${randomBytes(4).toString('hex')}`, MODEL_NAME: MODEL,
    };
    const config = loadConfig(env);
    const store = await connectStore(config.MONGODB_URI!, config.MONGODB_DB);
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: stack.temporalNamespace });
    const worker = startWorkerProcess(env);
    try {
      const csv = join(tmp, 'users.csv');
      let t = performance.now();
      await generateToFiles({ users, seed, out: csv });
      const generate_s = r1((performance.now() - t) / 1000);
      t = performance.now();
      const stored = await storeUsers(store.db, csv);
      const store_s = r1((performance.now() - t) / 1000);
      if (stored !== users) throw new Error(`stored ${stored} of ${users} users`);
      t = performance.now();
      const sample = await readUsers(csv, FIT_USERS);
      const version = (await registerFixtureModel(store.db, { modelName: MODEL, nEstimators: TREES, maxDepth: DEPTH, seed }, sample)).version;
      const fit_s = r1((performance.now() - t) / 1000);
      rmSync(csv, { force: true });
      rmSync(`${csv}.truth.csv`, { force: true });

      // Ceiling first: neither run gains from the other's writes (the ceiling's collection is dropped).
      let meter = serverMeter(server);
      const base = await ceiling(store.db, MODEL, version);
      const baseServer = meter();
      if (base.users !== users) throw new Error(`ceiling wrote ${base.users} of ${users} documents`);

      await worker.ready;
      const pid = workerPid(worker.proc.pid!);
      const startup_peak_mb = status(pid, 'VmHWM');
      resetPeak(pid);
      const cpu0 = cpuSeconds(pid);
      meter = serverMeter(server);
      t = performance.now();
      const limitMs = (opts.maxMinutes ?? 120) * 60_000;
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`scoring did not finish within ${limitMs / 60_000} minutes`)), limitMs);
      });
      const summary = await Promise.race([scoreNow(client, config, 'bench'), limit]).finally(() => clearTimeout(timer)).catch(async (err: Error) => {
        await client.workflow.getHandle(scoreWorkflowId(MODEL)).terminate('bench time limit').catch(() => undefined);
        // Leave the evidence of a failed run (which activities ran how long, how often) before failing.
        writeResult(`score-${new Date().toISOString().slice(0, 10)}-failed.json`, {
          bench: 'score', users, error: err.message, after_s: r1((performance.now() - t) / 1000), setup: { generate_s, store_s, fit_s },
          ceiling: { seconds: r1(base.seconds), users_per_s: Math.round(users / base.seconds), read_s: r1(base.read_s), insert_s: r1(base.insert_s) }, worker_peak_rss_mb: status(pid, 'VmHWM'),
          timings: await activityTimings(client, scoreWorkflowId(MODEL)).catch(() => null), loadavg: { start: load.start, end: loadavg() },
        });
        throw err;
      });
      const seconds = (performance.now() - t) / 1000;
      const oursServer = meter();
      const worker_peak_mb = status(pid, 'VmHWM');
      const worker_cpu_s = r1(cpuSeconds(pid) - cpu0);
      const scores = await countScores(store.db, MODEL, version);
      // A retried job counts the scores an earlier (timed-out, still running) attempt wrote as skipped.
      if (scores !== users || summary.written + summary.skipped !== users) throw new Error(`${scores} scores stored (summary: ${summary.written} written, ${summary.skipped} skipped) for ${users} users`);
      const timings = await activityTimings(client, scoreWorkflowId(MODEL));

      // The model's own cost per user (transform + predictProba, in this process) against the jobs' time.
      const m = (await loadVersion(store.db, MODEL, version))!;
      const part = sample.slice(0, 10_000);
      const c0 = process.cpuUsage();
      m.model.predictProba({ data: transformBatch(m.spec, part), rows: part.length, cols: m.spec.names.length });
      const c1 = process.cpuUsage(c0);
      const us_per_user = r3((c1.user + c1.system) / part.length);

      meter = serverMeter(server);
      const exp = { ...(await exportMembers(store.db, join(tmp, 'members.csv'))), ...meter() };
      if (exp.rows !== users) throw new Error(`export wrote ${exp.rows} of ${users} members`);
      load.end = loadavg();

      const ours_ups = users / seconds;
      const base_ups = users / base.seconds;
      const result = {
        bench: 'score', date: new Date().toISOString(), users, seed, node: process.version, cpu: cpus()[0]?.model, cores: cpus().length,
        server: `local ${stack.started.join('+')}`, loadavg: load,
        model: { trees: TREES, depth: DEPTH, fit_users: sample.length, features: m.spec.names.length, version },
        setup: { generate_s, store_s, fit_s },
        retail24: {
          seconds: r1(seconds), users_per_s: Math.round(ours_ups), worker_peak_rss_mb: worker_peak_mb, worker_startup_peak_mb: startup_peak_mb,
          worker_cpu_s, ...oursServer, concurrency: config.SCORE_CONCURRENCY, summary, scores_stored: scores, timings,
          model_us_per_user: us_per_user, model_share_of_seconds: r3((us_per_user * users) / 1e6 / seconds),
        },
        ceiling: { seconds: r1(base.seconds), users_per_s: Math.round(base_ups), read_s: r1(base.read_s), insert_s: r1(base.insert_s), batch: CEILING_BATCH, ...baseServer },
        ratio: r3(ours_ups / base_ups),
        export: exp,
        goals: { ratio_min: 0.8, ratio_met: ours_ups / base_ups >= 0.8, worker_rss_max_mb: 500, worker_rss_met: worker_peak_mb < 500 },
      };
      writeResult(`score-${result.date.slice(0, 10)}${opts.quick ? '-quick' : ''}.json`, result);
      return result;
    } finally {
      await worker.kill('SIGTERM');
      await closeBenchStore(connection, store);
    }
  } finally {
    await closeBenchStack(stack, tmp);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const a = scriptArgs({ users: 'string', quick: 'boolean', 'max-minutes': 'string', json: 'boolean' }, 'bench/score.ts [--users N] [--quick] [--max-minutes M] [--json]');
  const r = await runScoreBench({
    users: a.flags.users === undefined ? undefined : intFlag(a, 'users', 0, 1, 100_000_000), quick: boolFlag(a, 'quick'),
    maxMinutes: a.flags['max-minutes'] === undefined ? undefined : numFlag(a, 'max-minutes', 0, 0.1, 24 * 60),
  });
  if (boolFlag(a, 'json')) console.log(JSON.stringify(r));
  else {
    const o = r.retail24;
    console.log([
      `score bench, ${r.users} users (${r.model.trees} trees, depth ${r.model.depth}), load ${r.loadavg.start.join(' ')} → ${r.loadavg.end.join(' ')}`,
      `  retail24: ${o.users_per_s} users/s (${o.seconds} s: plan ${o.timings.plan_s} s, jobs ${o.timings.jobs_s} s, ${o.timings.retries} retries), worker VmHWM ${o.worker_peak_rss_mb} MB`,
      `  ceiling:  ${r.ceiling.users_per_s} users/s (${r.ceiling.seconds} s: read ${r.ceiling.read_s} s, insertMany ${r.ceiling.insert_s} s)`,
      `  ratio ${r.ratio} (goal ≥ 0.8: ${r.goals.ratio_met ? 'met' : 'not met'}); worker < 500 MB: ${r.goals.worker_rss_met ? 'met' : 'not met'}`,
      `  export:   ${r.export.rows_per_s} rows/s (${r.export.rows} rows, ${r.export.seconds} s), RSS +${r.export.rss_delta_export_mb} MB during the stream (peak ${r.export.rss_peak_sampled_mb} MB; population read ${r.export.population_s} s)`,
    ].join('\n'));
  }
}
