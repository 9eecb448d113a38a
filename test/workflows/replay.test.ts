import { DefaultLogger, Runtime } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReplay, type ReplayResult } from '../../sim/replay';
import { NO_AUTO_SCORING, testEnv, uniqueDbName } from '../helpers/stack';

// The shift on day 5 leaves days 5–7 to detect it in (the goal's 0–2 days of delay); an eighth day
// added nothing the assertions read and cost a ninth of this file's time.
const DAYS = 7;
const USERS_PER_DAY = 400;
const SHIFT_DAY = 5;
/** One cell: a run takes seconds on 2 cores; the replay measures the monitor, not the forest. */
const TINY_GRID = '{"nEstimators":[20],"maxDepth":[6]}';

let r: ReplayResult;

const inUnit = (v: number | null | undefined) => typeof v === 'number' && v >= 0 && v <= 1;

describe(`replay: ${DAYS} days × ${USERS_PER_DAY} users, behaviour shift from day ${SHIFT_DAY}, against the test stack`, () => {
  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') }); // worker state chatter drowns the test output
    r = await runReplay({
      days: DAYS, usersPerDay: USERS_PER_DAY, shiftDay: SHIFT_DAY, shift: 'behaviour', historyDays: 2, seed: 42,
      // The test stack's servers (the replay connects and starts nothing); it brings its own database, queue and model name.
      // The replay measures the monitor and reads no scores.
      env: testEnv(uniqueDbName(import.meta.url), { PARAM_GRID: TINY_GRID, ...NO_AUTO_SCORING }),
      checkTimeoutMs: 120_000, runTimeoutMs: 300_000,
      log: (line) => process.stderr.write(`[replay] ${line}\n`),
    });
  }, 1_200_000);

  it('when the replay ran, then every day was ingested, checked by the monitor and recorded, and nothing wedged', () => {
    expect(r.summary.wedged).toBe(false);
    expect(r.summary.wedged_reason).toBeNull();
    expect(r.days.map((d) => d.day)).toEqual(Array.from({ length: DAYS }, (_, i) => i + 1));
    for (const d of r.days) {
      expect(d.shifted).toBe(d.day >= SHIFT_DAY);
      expect(d.users.new).toBe(USERS_PER_DAY);
      expect(d.ingest.read).toBe(d.users.file_rows);
      expect(d.ingest.rejected).toBe(0);
      expect(d.ingest.pending).toBe(d.users.pending_in_file);
      expect(d.triggers.map((t) => t.name).sort()).toEqual(['degradation', 'drift', 'new-data']);
      for (const t of d.triggers) {
        expect(t.value === null || Number.isFinite(t.value)).toBe(true);
        expect(Number.isFinite(t.threshold)).toBe(true);
        expect(typeof t.fired).toBe('boolean');
        expect(typeof t.detail).toBe('string');
      }
      expect(d.fired).toEqual(d.triggers.filter((t) => t.fired).map((t) => t.name));
    }
  });

  it('when the first day is over, then a first model is in production and serves every later day', () => {
    expect(r.days[0].runs[0]).toMatchObject({ trigger: 'manual', started: true });
    expect(r.days[0].promotions[0]).toMatchObject({ from: null });
    expect(r.days[0].production.serving).toBeNull(); // nothing to score day 1's users with
    expect(r.days.at(-1)!.production.after).not.toBeNull();
    for (const d of r.days.slice(1)) {
      expect(d.production.serving).not.toBeNull();
      expect(d.predictions.served_by).toEqual([d.production.serving]);
      // predictShare 0.5 of 400: binomial sd 10, so 150..250 is 5 sd
      expect(d.predictions.sent).toBeGreaterThan(150);
      expect(d.predictions.sent).toBeLessThan(250);
    }
  });

  it('when production is scored against the truth, then its ROC AUC and precision at recall 0.9 are in [0, 1] every served day', () => {
    for (const d of r.days.slice(1)) {
      expect(d.true_metrics).not.toBeNull();
      expect(d.true_metrics!.version).toBe(d.production.serving);
      expect(d.true_metrics!.users).toBe(USERS_PER_DAY);
      expect(inUnit(d.true_metrics!.roc_auc)).toBe(true);
      expect(inUnit(d.true_metrics!.precision_at_recall)).toBe(true);
      if (d.replaced) {
        expect(inUnit(d.replaced.precision_at_recall)).toBe(true);
        expect(d.replaced.version).not.toBe(d.production.serving);
      }
    }
  });

  it('when the summary is read, then every field is there with its type', () => {
    const s = r.summary;
    for (const k of ['false_triggers_before_shift', 'new_data_fires_before_shift', 'promotions', 'harmful_promotions', 'improving_promotions_after_shift', 'unscored_promotions'] as const) {
      expect(Number.isInteger(s[k]) && s[k] >= 0).toBe(true);
    }
    expect(s.detection_delay_days === null || (Number.isInteger(s.detection_delay_days) && s.detection_delay_days >= 0)).toBe(true);
    expect(typeof s.wedged).toBe('boolean');
    expect(s.wall_s).toBeGreaterThan(0);
    expect(s.promotions).toBe(r.days.flatMap((d) => d.promotions).filter((p) => p.from !== null).length);
  });

  // The detection goals of issue 10 §5, on the small run. Thresholds are the goals, not
  // measurements; the monitor's triggers are being reworked to meet them.
  it('when the shift comes, then the monitor stays quiet before it, detects it within 2 days and promotes nothing harmful', () => {
    expect(r.summary.false_triggers_before_shift).toBe(0);
    expect(r.summary.detection_delay_days).not.toBeNull();
    expect(r.summary.detection_delay_days!).toBeLessThanOrEqual(2);
    expect(r.summary.harmful_promotions).toBe(0);
  });
});
