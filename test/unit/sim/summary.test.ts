import { describe, expect, it } from 'vitest';
import { summarize, type DayResult } from '../../../sim/summary';
import type { TrueMetrics } from '../../../sim/scoring';

const metrics = (version: number, p: number): TrueMetrics => ({ version, users: 100, positives: 20, roc_auc: 0.8, precision_at_recall: p });

function day(d: number, fired: string[], extra: Partial<DayResult> = {}): DayResult {
  return {
    day: d, date: `2026-01-${String(d).padStart(2, '0')}`, as_of: '', shifted: false,
    users: { new: 100, carried: 100, file_rows: 200, pending_in_file: 80, new_positives: 20 },
    ingest: { read: 200, inserted: 100, updated: 100, rejected: 0, pending: 80 },
    predictions: { sent: 50, served_by: [1] }, outcomes: { posted: 10 },
    triggers: [], fired, runs: [], promotions: [], production: { serving: 1, after: 1 },
    true_metrics: metrics(1, 0.3), replaced: null, wall_s: 1, ...extra,
  };
}

describe('summarize', () => {
  it('when alarms fire before and after the shift, then false triggers, new-data fires and the delay are told apart', () => {
    const days = [day(1, []), day(2, ['new-data']), day(3, ['drift']), day(4, []), day(5, ['new-data']), day(6, ['degradation', 'drift'])];
    const s = summarize(days, 4, null, 12);
    expect(s).toMatchObject({ false_triggers_before_shift: 1, new_data_fires_before_shift: 1, detection_delay_days: 2, wedged: false, wedged_reason: null, wall_s: 12 });
    expect(summarize(days.slice(0, 5), 4, null, 1).detection_delay_days).toBeNull(); // new-data alone is not a detection
    expect(summarize(days, null, null, 1)).toMatchObject({ false_triggers_before_shift: 2, detection_delay_days: null }); // days 3 and 6
  });

  it('when production is replaced, then the next day decides harmful, improving or unscored', () => {
    const promo = (from: number | null, to: number) => ({ from, to, by: 'gate', reason: '', at: '' });
    const days = [
      day(1, [], { promotions: [promo(null, 1)] }),
      day(2, [], { promotions: [promo(1, 2)] }),
      day(3, [], { true_metrics: metrics(2, 0.25), replaced: { ...metrics(1, 0.3), harmful: true } }),
      day(4, [], { promotions: [promo(2, 3)] }),
      day(5, [], { true_metrics: metrics(3, 0.35), replaced: { ...metrics(2, 0.3), harmful: false }, promotions: [promo(3, 4)] }),
    ];
    expect(summarize(days, 4, null, 1)).toMatchObject({ promotions: 3, harmful_promotions: 1, improving_promotions_after_shift: 1, unscored_promotions: 1 });
  });

  it('when the monitor wedged, then the summary says so and why', () => {
    expect(summarize([day(1, [])], 4, 'day 1: monitor wedged', 1)).toMatchObject({ wedged: true, wedged_reason: 'day 1: monitor wedged' });
  });
});
