/**
 * A bootstrap interval of F1 from confusion counts: resampling rows with replacement is a
 * multinomial draw over the four cells, so each resample costs O(rows) uniforms and no row data.
 */
import { mulberry32 } from './rng';

/**
 * Percentile interval of F1 = 2·TP / (2·TP + FP + FN) under row resampling.
 * @param opts.resamples @default 400  @param opts.seed @default 42  @param opts.confidence @default 0.95
 * @throws RangeError on negative or non-integer counts.
 */
export function f1Interval(c: { tp: number; fp: number; fn: number; tn: number }, opts: { resamples?: number; seed?: number; confidence?: number } = {}): [number, number] {
  const { tp, fp, fn, tn } = c;
  for (const [k, v] of Object.entries(c)) if (!Number.isInteger(v) || v < 0) throw new RangeError(`${k} must be a non-negative integer, got ${v}`);
  const n = tp + fp + fn + tn;
  if (n === 0) return [0, 0];
  const B = opts.resamples ?? 400;
  const conf = opts.confidence ?? 0.95;
  const rng = mulberry32(opts.seed ?? 42);
  const a = tp / n, b = (tp + fp) / n, d = (tp + fp + fn) / n;
  const f1s = new Float64Array(B);
  for (let r = 0; r < B; r++) {
    let t = 0, f = 0, m = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (u < a) t++;
      else if (u < b) f++;
      else if (u < d) m++;
    }
    f1s[r] = t === 0 ? 0 : (2 * t) / (2 * t + f + m);
  }
  f1s.sort();
  const q = (p: number) => f1s[Math.min(B - 1, Math.max(0, Math.round(p * (B - 1))))]!;
  return [q((1 - conf) / 2), q(1 - (1 - conf) / 2)];
}
