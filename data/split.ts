/** Train/holdout splits over row indexes. */
import { Rng } from './random';

export interface SplitArgs {
  /** Epoch ms per row; used by the time strategy. */
  firstOpen: Float64Array;
  /** 0/1 labels per row; used by the stratified strategy. */
  y: Uint8Array;
  /** `time`: the latest first_open rows go to holdout (what production will see next); `stratified`: seeded per-class sample. */
  strategy: 'time' | 'stratified';
  /** @default 0.2 */
  holdoutFraction?: number;
  /** @default 42 */
  seed?: number;
}

function sorted(idx: number[]): Int32Array {
  return Int32Array.from(idx).sort();
}

/**
 * Splits rows into train and holdout index sets (each ascending, disjoint, covering all rows).
 * Both sets get at least one row. Time ties are broken by row index so the split is deterministic.
 * @throws RangeError naming a bad argument.
 */
export function splitHoldout(args: SplitArgs): { train: Int32Array; holdout: Int32Array } {
  const { firstOpen, y, strategy } = args;
  const fraction = args.holdoutFraction ?? 0.2;
  const seed = args.seed ?? 42;
  const n = firstOpen.length;
  if (y.length !== n) throw new RangeError(`y has ${y.length} rows but firstOpen has ${n}`);
  if (n < 2) throw new RangeError(`need at least 2 rows to split, got ${n}`);
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdoutFraction must be in (0, 1), got ${fraction}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const isHold = new Uint8Array(n);
  if (strategy === 'time') {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => firstOpen[a] - firstOpen[b] || a - b);
    const k = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    for (let i = n - k; i < n; i++) isHold[order[i]] = 1;
  } else if (strategy === 'stratified') {
    const rng = new Rng(seed);
    for (const cls of [0, 1]) {
      const members: number[] = [];
      for (let i = 0; i < n; i++) if ((y[i] ? 1 : 0) === cls) members.push(i);
      for (let i = members.length - 1; i > 0; i--) { // Fisher–Yates
        const j = rng.int(i + 1);
        [members[i], members[j]] = [members[j], members[i]];
      }
      let k = Math.round(members.length * fraction);
      if (members.length >= 2) k = Math.min(members.length - 1, Math.max(1, k)); // each class on both sides
      for (let i = 0; i < k; i++) isHold[members[i]] = 1;
    }
    let held = 0;
    for (let i = 0; i < n; i++) held += isHold[i];
    if (held === 0) isHold[0] = 1;
    if (held === n) isHold[0] = 0;
  } else {
    throw new RangeError(`strategy must be 'time' or 'stratified', got ${JSON.stringify(strategy)}`);
  }
  const train: number[] = [], holdout: number[] = [];
  for (let i = 0; i < n; i++) (isHold[i] ? holdout : train).push(i);
  return { train: sorted(train), holdout: sorted(holdout) };
}
