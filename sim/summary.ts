/**
 * What the replay records per simulated day, and the summary scored from it (pure).
 */
import type { TriggerState } from '../common/messages';
import type { TrueMetrics } from './scoring';

export interface DayPromotion {
  from: number | null;
  to: number;
  by: string;
  reason: string;
  at: string;
}

export interface DayRun {
  at: string;
  trigger: string;
  reason: string;
  run_id: string | null;
  started: boolean;
  note: string;
}

export interface DayResult {
  day: number;
  date: string;
  as_of: string;
  /** Whether this day's new users were generated with the shift. */
  shifted: boolean;
  users: { new: number; carried: number; file_rows: number; pending_in_file: number; new_positives: number };
  ingest: { read: number; inserted: number; updated: number; rejected: number; pending: number };
  /** Scored through /v1/predict before the day's export was ingested, by `served_by`. */
  predictions: { sent: number; served_by: number[] };
  outcomes: { posted: number };
  /** The monitor's triggers after the day's check, as its status query reports them. */
  triggers: TriggerState[];
  /** Names of the triggers that fired in the day's check. */
  fired: string[];
  /** Monitor history entries written during the day (runs started, refused, finished). */
  runs: DayRun[];
  /** Moves of the production alias during the day. */
  promotions: DayPromotion[];
  /** Production version that served the day's users, and the one after the day's check. */
  production: { serving: number | null; after: number | null };
  /** The serving model on the day's new users against their eventual labels (null: no model). */
  true_metrics: TrueMetrics | null;
  /**
   * When production changed since the previous day's users were served: the model it replaced, on
   * the same users, and whether the change was harmful (replaced better by more than the margin).
   */
  replaced: (TrueMetrics & { harmful: boolean | null }) | null;
  wall_s: number;
}

export interface ReplaySummary {
  /** Days before the shift day on which drift or degradation fired. */
  false_triggers_before_shift: number;
  /** Days before the shift day on which new-data fired (the growth rule, not a false alarm). */
  new_data_fires_before_shift: number;
  /** First day ≥ the shift day on which drift or degradation fired, minus the shift day; null if never (or no shift). */
  detection_delay_days: number | null;
  /** Production moves that replaced a model (the first model's promotion not counted). */
  promotions: number;
  /** Replacements whose next-day true precision at the target recall is below the replaced model's by more than the margin. */
  harmful_promotions: number;
  /** Replacements on or after the shift day whose next-day true precision beats the replaced model's. */
  improving_promotions_after_shift: number;
  /** Replacements that could not be scored (made on the last day). */
  unscored_promotions: number;
  wedged: boolean;
  wedged_reason: string | null;
  wall_s: number;
}

const ALARMS = new Set(['drift', 'degradation']);

/** Scores the days: `shiftDay` null means every day counts as before the shift. */
export function summarize(days: readonly DayResult[], shiftDay: number | null, wedged: string | null, wallS: number): ReplaySummary {
  const before = days.filter((d) => shiftDay === null || d.day < shiftDay);
  const alarm = (d: DayResult) => d.fired.some((f) => ALARMS.has(f));
  const detected = shiftDay === null ? undefined : days.find((d) => d.day >= shiftDay && alarm(d));
  const replacements = days.flatMap((d) => d.promotions.filter((p) => p.from !== null).map(() => d.day));
  const scored = days.filter((d) => d.replaced !== null);
  const improving = scored.filter((d) => shiftDay !== null && d.day - 1 >= shiftDay
    && d.replaced!.precision_at_recall !== null && d.true_metrics?.precision_at_recall != null
    && d.true_metrics.precision_at_recall > d.replaced!.precision_at_recall);
  const lastDay = days.at(-1)?.day;
  return {
    false_triggers_before_shift: before.filter(alarm).length,
    new_data_fires_before_shift: before.filter((d) => d.fired.includes('new-data')).length,
    detection_delay_days: detected ? detected.day - shiftDay! : null,
    promotions: replacements.length,
    harmful_promotions: scored.filter((d) => d.replaced!.harmful === true).length,
    improving_promotions_after_shift: improving.length,
    unscored_promotions: replacements.filter((day) => day === lastDay).length,
    wedged: wedged !== null,
    wedged_reason: wedged,
    wall_s: wallS,
  };
}
