/**
 * Decision threshold for a recall target, chosen on out-of-fold probabilities.
 */
import { confusionAt, precisionRecallF1 } from './metrics';
import { sweep } from './curves';
import type { ThresholdChoice } from '../common/workflow-types';

export type { ThresholdChoice };

/**
 * Among thresholds at the distinct scores, the one reaching recall >= targetRecall with the highest
 * precision (ties: the highest threshold, i.e. fewest rows flagged).
 * @param targetRecall @default 0.9
 */
export function chooseThreshold(y: Uint8Array, oofProba: Float64Array, targetRecall = 0.9): ThresholdChoice {
  if (!(targetRecall > 0 && targetRecall <= 1)) throw new RangeError(`targetRecall must be in (0, 1], got ${targetRecall}`);
  const s = sweep(y, oofProba);
  if (s.positives === 0) throw new RangeError('chooseThreshold needs at least one positive label');
  let best = -1;
  let bestPrecision = -1;
  for (let i = 0; i < s.thresholds.length; i++) {
    const recall = s.tps[i] / s.positives;
    // float slack so a target like 0.9 of 10 positives (9/10) is not missed by rounding
    if (recall + 1e-12 < targetRecall) continue;
    const precision = s.tps[i] / (s.tps[i] + s.fps[i]);
    if (precision > bestPrecision) {
      bestPrecision = precision;
      best = i;
    }
  }
  const atDefault = precisionRecallF1(confusionAt(y, oofProba, 0.5)).precision;
  if (best < 0) {
    const m = precisionRecallF1(confusionAt(y, oofProba, 0.5));
    return { threshold: 0.5, ...m, precisionAtDefault: atDefault, precisionCost: 0, reachable: false };
  }
  const m = precisionRecallF1(confusionAt(y, oofProba, s.thresholds[best]));
  return { threshold: s.thresholds[best], ...m, precisionAtDefault: atDefault, precisionCost: atDefault - m.precision, reachable: true };
}
