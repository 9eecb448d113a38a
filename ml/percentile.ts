/**
 * Percentage (0–100) of the holdout's calibrated scores at or below `p`: "this user scores higher
 * than 93 % of the users the model was evaluated on". Null for a model registered without them.
 * `sorted` is ascending.
 */
export function percentileOf(sorted: Float64Array | null, p: number): number | null {
  if (!sorted || sorted.length === 0) return null;
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= p) lo = mid + 1;
    else hi = mid;
  }
  return Math.round((lo / sorted.length) * 1000) / 10;
}
