/**
 * The replay (issue 10 §5): weeks of daily exports through the real system — ingest workflow,
 * training pipeline, promotion gate, monitor, API — on a private database, task queue and model
 * name, scored against the generator's truth. See sim/README.md for the day's steps and the JSON.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { ingestViaWorkflow, startTraining } from '../client/pipeline';
import { ensureMonitor } from '../client/monitor';
import { startApi } from '../api/server';
import { createWorker, workflowBundle } from '../worker/worker';
import { connectClient } from '../client/connection';
import { connectStore } from '../store/db';
import { ensureIndexes } from '../store/collections';
import { aliasHistory } from '../store/registry';
import { PRODUCTION_ALIAS, monitorWorkflowId } from '../common/constants';
import { TRIGGERS } from '../common/workflow-types';
import { startLocalStack } from '../stack/local-stack';
import { buildDayExport, inShare, writeDayExport } from './exports';
import { resolveReplayOptions, type ReplayOptions } from './options';
import { ApiDriver } from './api-driver';
import { MonitorDriver, WedgedError, newHistory } from './monitor-driver';
import { ModelCache } from './model-cache';
import { summarize, type DayResult, type ReplaySummary } from './summary';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Salts of the two independent user samples: who is scored, whose purchase is reported. */
const PREDICT_SALT = 1;
const OUTCOME_SALT = 2;
/** The largest interval a policy allows (7 days): the monitor never checks by the clock during a replay. */
const NEVER_S = '604800';

export type { ReplayOptions } from './options';

export interface ReplayResult {
  options: Omit<ReplayOptions, 'env' | 'log'>;
  machine: { node: string; cores: number; cpu: string | null };
  settings: Record<string, string | number | null>;
  model_name: string;
  days: DayResult[];
  summary: ReplaySummary;
}

/** Runs the replay; always stops what it started and drops its database. */
export async function runReplay(partial: Partial<ReplayOptions> = {}): Promise<ReplayResult> {
  const o = resolveReplayOptions(partial);
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'retail24-sim-'));
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const stack = await startLocalStack({ root: ROOT, dataDir: join(work, 'stack'), env: o.env, freePorts: true, log: o.log });
    cleanup.push(() => stack.stop());
    const id = randomBytes(4).toString('hex');
    const env: NodeJS.ProcessEnv = {
      ...o.env, TEMPORAL_ADDRESS: stack.temporalAddress, MONGODB_URI: stack.mongoUri,
      MONGODB_DB: `sim_${id}`, TASK_QUEUE: `sim-${id}`, MODEL_NAME: `Sim_${id}`,
      API_TOKEN: randomBytes(24).toString('base64url'), HOST: '127.0.0.1', PORT: '0', MONITOR_INTERVAL_S: NEVER_S,
    };
    const config = loadConfig(env);
    const store = await connectStore(stack.mongoUri, config.MONGODB_DB);
    cleanup.push(async () => {
      await store.db.dropDatabase().catch(() => undefined);
      await store.close();
    });
    await ensureIndexes(store.db);
    const client = await connectClient(config);
    cleanup.push(() => client.connection.close());
    const connection = await NativeConnection.connect({ address: stack.temporalAddress });
    cleanup.push(() => connection.close());
    const worker = await createWorker({ connection, db: store.db, config, temporal: client, workflowBundle: await workflowBundle(), identity: `sim-worker-${process.pid}` });
    const running = worker.run();
    // A worker that dies leaves checks unanswered: the bounds below then report the replay wedged.
    running.catch((err: Error) => o.log(`worker stopped: ${err.message}`));
    cleanup.push(async () => {
      worker.shutdown();
      await running.catch(() => undefined);
    });
    const api = await startApi(config, { log: () => undefined });
    cleanup.push(() => api.close());
    const monitorId = monitorWorkflowId(config.MODEL_NAME);
    cleanup.push(() => client.workflow.getHandle(monitorId).terminate('replay over').catch(() => undefined));

    const http = new ApiDriver(api.url, config.API_TOKEN!, config.PREDICT_MAX_BATCH);
    const monitor = new MonitorDriver(client.workflow.getHandle(monitorId));
    const models = new ModelCache(store.db, config.MODEL_NAME, config.TARGET_RECALL);
    const seen = new Set<string>();
    const days: DayResult[] = [];
    let wedged: string | null = null;
    let lastServing: number | null = null;
    let prevPromotions: DayResult['promotions'] = [];

    for (let d = 1; d <= o.days; d++) {
      const dayT0 = Date.now();
      const exp = buildDayExport(o, d);
      const path = await writeDayExport(work, exp);
      const records = await models.records(exp.newUsers);
      const labels = Uint8Array.from(exp.newUsers, (u) => u.label);

      // During the day: production scores a share of the new users; buyers report purchases as they happen.
      await api.models.refresh();
      const serving = api.models.current()?.version ?? null;
      const toScore = records.filter((r) => inShare(o.seed, PREDICT_SALT, r.userId, o.predictShare));
      const predictions = serving === null ? { sent: 0, versions: [] } : await http.predict(toScore);
      await api.predictionLog.flush();
      const prevAsOf = exp.asOf - 86_400_000;
      const reported = [...exp.carriedUsers.filter((u) => u.day >= 1), ...exp.newUsers]
        .filter((u) => u.purchaseAt !== null && u.purchaseAt > prevAsOf && u.purchaseAt <= exp.asOf && inShare(o.seed, OUTCOME_SALT, u.userId, o.outcomeShare))
        .map((u) => ({ userId: u.userId, purchaseAt: u.purchaseAt! }));
      const posted = await http.outcomes(reported);

      // End of the day: the export is ingested with its own observation time, then the monitor checks.
      const ingest = await ingestViaWorkflow(client, store.db, config, path, undefined, exp.asOf);
      const promotedSince = new Date(dayT0);
      const runs: DayResult['runs'] = [];
      if (d === 1) {
        const at = new Date().toISOString();
        const handle = await startTraining(client, config, TRIGGERS.manual, 'replay: first model');
        const r = await handle.result();
        runs.push({ at, trigger: TRIGGERS.manual, reason: 'replay: first model', run_id: handle.workflowId, started: true, note: r.promotion.promoted ? 'promoted' : `not promoted: ${r.promotion.reason}` });
      }
      let triggers: DayResult['triggers'] = [];
      try {
        if ((await ensureMonitor(client, config)).started) {
          // A monitor may check once at start (and start a run): let that finish before asking.
          await monitor.waitSettled(o.checkTimeoutMs);
          await monitor.waitIdle(o.runTimeoutMs);
        }
        triggers = (await monitor.checkNow(o.checkTimeoutMs)).triggers;
        const idle = await monitor.waitIdle(o.runTimeoutMs);
        runs.push(...newHistory(idle, seen).map((h) => ({ at: h.at, trigger: h.trigger, reason: h.reason, run_id: h.runId, started: h.started, note: h.note })));
      } catch (err) {
        if (!(err instanceof WedgedError)) throw err;
        wedged = `day ${d}: ${err.message}`;
      }
      const promotions = (await aliasHistory(store.db, config.MODEL_NAME, 100))
        .filter((h) => h.alias === PRODUCTION_ALIAS && h.at >= promotedSince).reverse()
        .map((h) => ({ from: h.from, to: h.to, by: h.by, reason: h.reason, at: h.at.toISOString() }));
      const after = promotions.at(-1)?.to ?? serving;

      // The truth: the serving model on the day's new users, which no model has trained on yet.
      const trueNow = serving === null ? null : await models.score(serving, records, labels);
      const replacedVersion = serving !== null && serving !== lastServing ? prevPromotions.find((p) => p.from !== null)?.from ?? null : null;
      let replaced: DayResult['replaced'] = null;
      if (replacedVersion !== null && trueNow) {
        const r = await models.score(replacedVersion, records, labels);
        const harmful = r.precision_at_recall === null || trueNow.precision_at_recall === null ? null : r.precision_at_recall - trueNow.precision_at_recall > config.PROMOTION_MARGIN;
        replaced = { ...r, harmful };
      }
      const day: DayResult = {
        day: d, date: exp.date, as_of: new Date(exp.asOf).toISOString(), shifted: exp.shifted,
        users: { new: exp.newUsers.length, carried: exp.carriedUsers.length, file_rows: exp.newUsers.length + exp.carriedUsers.length, pending_in_file: exp.pending, new_positives: labels.reduce((s, y) => s + y, 0) },
        ingest: { read: ingest.read, inserted: ingest.inserted, updated: ingest.updated, rejected: ingest.rejected, pending: ingest.pending },
        predictions: { sent: predictions.sent, served_by: predictions.versions },
        outcomes: { posted },
        triggers: triggers.map((t) => ({ ...t })),
        fired: triggers.filter((t) => t.fired).map((t) => t.name),
        runs, promotions, production: { serving, after }, true_metrics: trueNow, replaced,
        wall_s: (Date.now() - dayT0) / 1000,
      };
      days.push(day);
      o.log(dayLine(day, o.days));
      lastServing = serving ?? lastServing;
      prevPromotions = promotions;
      if (wedged) break;
    }
    const { env: _env, log: _log, ...options } = o;
    const result: ReplayResult = {
      options,
      machine: { node: process.version, cores: cpus().length, cpu: cpus()[0]?.model ?? null },
      settings: settingsOf(config),
      model_name: config.MODEL_NAME,
      days,
      summary: summarize(days, o.shiftDay, wedged, (Date.now() - t0) / 1000),
    };
    if (o.out) {
      mkdirSync(dirname(o.out), { recursive: true });
      writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
    }
    return result;
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** The settings that decide what the replay measures, recorded with its result. */
function settingsOf(c: ReturnType<typeof loadConfig>): ReplayResult['settings'] {
  const keys = Object.keys(c).filter((k) => /^(MONITOR_|PROMOTION_|PARAM_GRID|TARGET_RECALL|SCORING|CV_FOLDS|SEED|ENGINE|CALIBRATION|SPLIT_STRATEGY|HOLDOUT_FRACTION)/.test(k));
  return Object.fromEntries(keys.map((k) => {
    const v = (c as Record<string, unknown>)[k];
    return [k, typeof v === 'number' || v === null ? v : typeof v === 'string' ? v : JSON.stringify(v)];
  }));
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));

/** One progress line per day (stderr in the CLI). */
export function dayLine(d: DayResult, total: number): string {
  const trig = d.triggers.map((t) => `${t.name} ${f3(t.value)}${t.fired ? '!' : ''}`).join(', ') || 'none';
  const runs = d.runs.filter((r) => r.started).map((r) => r.trigger).join(', ') || 'none';
  const promos = d.promotions.map((p) => `v${p.from ?? '∅'}→v${p.to}`).join(', ') || 'none';
  const truth = d.true_metrics ? `v${d.true_metrics.version} AUC ${f3(d.true_metrics.roc_auc)} P@R ${f3(d.true_metrics.precision_at_recall)}` : 'no model';
  const repl = d.replaced ? ` (replaced v${d.replaced.version}: P@R ${f3(d.replaced.precision_at_recall)}${d.replaced.harmful ? ', HARMFUL' : ''})` : '';
  return `day ${d.day}/${total} ${d.date}${d.shifted ? ' [shifted]' : ''}: ${d.ingest.read} rows, ${d.ingest.pending} pending; ` +
    `${d.predictions.sent} scored, ${d.outcomes.posted} outcomes; triggers ${trig}; runs ${runs}; promotions ${promos}; true ${truth}${repl} (${d.wall_s.toFixed(1)} s)`;
}
