/** Train/holdout splits over row indexes. */

export const SPLIT_STRATEGIES = ['hash', 'time'] as const;
export type SplitStrategy = (typeof SPLIT_STRATEGIES)[number];

export interface SplitArgs {
  /** User id per row; the hash strategy decides each row from its id alone. */
  ids: readonly string[];
  /** Epoch ms per row; used by the time strategy. */
  firstOpen: Float64Array;
  /**
   * `hash`: a user is in the holdout when a keyed hash of its id falls below the fraction, so it
   * stays on one side in every snapshot, whatever else is stored (the holdout neither a model nor
   * its successors ever train on); `time`: the latest first_open rows (what production sees next).
   */
  strategy: SplitStrategy;
  /** @default 0.2 */
  holdoutFraction?: number;
  /** The hash key: the same seed keeps every user on the same side. @default 42 */
  seed?: number;
}

/** MurmurHash3's 32-bit finaliser: spreads FNV's low-entropy high bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uniform number in [0, 1) from a user id and a key: FNV-1a over the key's and the id's UTF-16
 * code units, then MurmurHash3's finaliser. Not cryptographic (nobody gains by steering a user
 * into the holdout); cheap enough for millions of ids per snapshot.
 */
export function holdoutHash(id: string, key: number): number {
  let h = 0x811c9dc5;
  const k = `${key}\u0000`;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return fmix32(h) / 4294967296;
}

/** Whether a user belongs to the stable holdout for this fraction and key. */
export function inStableHoldout(id: string, fraction: number, key: number): boolean {
  return holdoutHash(id, key) < fraction;
}

/**
 * Splits rows into train and holdout index sets (each ascending, disjoint, covering all rows).
 * With `time` both sets get at least one row; with `hash` a side may be empty on tiny inputs (the
 * caller checks class counts). Time ties are broken by row index so the split is deterministic.
 * @throws RangeError naming a bad argument.
 */
export function splitHoldout(args: SplitArgs): { train: Int32Array; holdout: Int32Array } {
  const { ids, firstOpen, strategy } = args;
  const fraction = args.holdoutFraction ?? 0.2;
  const seed = args.seed ?? 42;
  const n = firstOpen.length;
  if (ids.length !== n) throw new RangeError(`ids has ${ids.length} rows but firstOpen has ${n}`);
  if (n < 2) throw new RangeError(`need at least 2 rows to split, got ${n}`);
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdoutFraction must be in (0, 1), got ${fraction}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const isHold = new Uint8Array(n);
  if (strategy === 'time') {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => firstOpen[a]! - firstOpen[b]! || a - b);
    const k = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    for (let i = n - k; i < n; i++) isHold[order[i]!] = 1;
  } else if (strategy === 'hash') {
    for (let i = 0; i < n; i++) isHold[i] = inStableHoldout(ids[i]!, fraction, seed) ? 1 : 0;
  } else {
    throw new RangeError(`strategy must be one of ${SPLIT_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
  let held = 0;
  for (let i = 0; i < n; i++) held += isHold[i]!;
  const train = new Int32Array(n - held);
  const holdout = new Int32Array(held);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (isHold[i]) holdout[b++] = i;
    else train[a++] = i;
  }
  return { train, holdout };
}
