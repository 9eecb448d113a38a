/**
 * Audience sizing over calibrated purchase probabilities: how many users a rule takes, what that
 * audience is expected to yield (sum of p), and what the same share of a labelled holdout actually
 * yielded, with a Wilson interval for the noise. Pure: typed arrays in, plain objects out.
 *
 * Conventions shared by every figure here:
 * - Exact k. An audience is the top `size` users by p, even when the k-th user's p is tied with
 *   users left out. The marketer asked for a size (or for the smallest / largest size meeting a
 *   target), and "all users with p >= threshold" can be far larger when calibration ties many users
 *   (isotonic maps flat above its last knot, so the very top is often one tie group). Expected
 *   figures do not depend on which tied users are taken (they share one p); `tiedLeftOut` reports
 *   how many equal-p users missed the cut.
 * - Empty denominators. Counts are 0; a ratio whose denominator is 0 is null (share of an empty
 *   population, precision of an empty audience, recall and lift when no buyers are expected).
 */
import { audienceRuleSchema, type AudienceRule } from '../common/audience';

/**
 * Relative slack in target comparisons. Prefix sums are compensated (Neumaier), so they are within
 * a few ulps of the exact sums; 1e-12 absorbs that rounding (a constant-0.4 population meets
 * "precision ≥ 0.40") and is far below any target a marketer can state.
 */
const TOL = 1e-12;
/** Slack for share-to-count rounding: 7 % of 100 users is 7, not 8 from 0.07 * 100 = 7.000000000000001. */
const COUNT_TOL = 1e-9;
/** Two-sided 95 % standard normal quantile. */
const Z95 = 1.959963984540054;

/** RangeError naming the first NaN or out-of-[0, 1] probability by index. */
function checkProbabilities(p: ArrayLike<number>, name: string): void {
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0 && p[i] <= 1)) throw new RangeError(`${name}[${i}] is ${p[i]}; probabilities must be in [0, 1]`);
  }
}

function checkRule(rule: AudienceRule): void {
  const r = audienceRuleSchema.safeParse(rule);
  if (!r.success) throw new RangeError(r.error.issues[0].message);
}

function checkCount(v: number, max: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be an integer in [0, ${max}], got ${v}`);
}

/** out[k] = sum of v[0..k-1], compensated, clamped non-decreasing (the inputs are >= 0). */
function prefixSums(v: Float64Array): Float64Array {
  const out = new Float64Array(v.length + 1);
  let s = 0;
  let c = 0;
  for (let i = 0; i < v.length; i++) {
    const t = s + v[i];
    c += Math.abs(s) >= Math.abs(v[i]) ? s - t + v[i] : v[i] - t + s;
    s = t;
    out[i + 1] = Math.max(out[i], s + c);
  }
  return out;
}

/** ceil(percent / 100 * n), the top_percent count (also the population deciles). */
function countForPercent(percent: number, n: number): number {
  const x = (percent * n) / 100;
  return Math.min(n, Math.max(0, Math.ceil(x - COUNT_TOL * Math.max(1, x))));
}

/** Smallest k in [0, n] with pred(k), given pred is monotone false..true and pred(n) holds. */
function firstTrue(n: number, pred: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** What an audience of the top `size` scored users is expected to yield. */
export interface ExpectedOutcome {
  size: number;
  /** size / N; null for an empty population */
  share: number | null;
  /** sum of p over the audience */
  expectedBuyers: number;
  expectedNonBuyers: number;
  /** share of all expected buyers captured; null when none are expected */
  expectedRecall: number | null;
  /** mean p of the audience; null for an empty audience */
  expectedPrecision: number | null;
  /** expectedPrecision / (sum p / N); null for an empty audience or a zero expected base rate */
  lift: number | null;
}

/** How many users a rule takes, and the probability at the cut. */
export interface AudienceSelection {
  size: number;
  /** p of the last user taken; null for an empty audience */
  threshold: number | null;
  /** users with p equal to `threshold` left out by the exact-k cut */
  tiedLeftOut: number;
  /** what decided the size: the rule's count, expected (sum of p) figures, or the holdout's labels */
  basis: 'count' | 'expected' | 'observed';
}

/**
 * The scored population sorted once by p (descending) with prefix sums of p, so that every
 * `at(size)` is O(1) and every rule is at most O(log N) (O(holdout) for an observed precision floor).
 */
export class AudienceCurve {
  /** population size N */
  readonly n: number;
  readonly totalExpectedBuyers: number;
  /** mean p; null for an empty population */
  readonly baseRate: number | null;

  private constructor(readonly sorted: Float64Array, private readonly cum: Float64Array) {
    this.n = sorted.length;
    this.totalExpectedBuyers = cum[this.n];
    this.baseRate = this.n === 0 ? null : this.totalExpectedBuyers / this.n;
  }

  /** Copies, validates and sorts descending. @throws RangeError naming a NaN or out-of-range p. */
  static fromProbabilities(p: ArrayLike<number>): AudienceCurve {
    checkProbabilities(p, 'p');
    const sorted = Float64Array.from(p).sort().reverse();
    return new AudienceCurve(sorted, prefixSums(sorted));
  }

  /** Uses `pSorted` as is (not copied: do not mutate it afterwards). @throws RangeError if not descending. */
  static fromSorted(pSorted: Float64Array): AudienceCurve {
    checkProbabilities(pSorted, 'pSorted');
    for (let i = 1; i < pSorted.length; i++) {
      if (pSorted[i] > pSorted[i - 1]) throw new RangeError(`pSorted[${i}] is ${pSorted[i]} after ${pSorted[i - 1]}; pSorted must be descending`);
    }
    return new AudienceCurve(pSorted, prefixSums(pSorted));
  }

  /** Sum of p over the top `size` users. */
  expectedBuyersAt(size: number): number {
    checkCount(size, this.n, 'size');
    return this.cum[size];
  }

  at(size: number): ExpectedOutcome {
    const buyers = this.expectedBuyersAt(size);
    const total = this.totalExpectedBuyers;
    const precision = size === 0 ? null : buyers / size;
    return {
      size,
      share: this.n === 0 ? null : size / this.n,
      expectedBuyers: buyers,
      expectedNonBuyers: Math.max(0, size - buyers),
      expectedRecall: total > 0 ? buyers / total : null,
      expectedPrecision: precision,
      lift: precision !== null && total > 0 ? precision / (total / this.n) : null,
    };
  }

  /**
   * The audience size for `rule` (see `selectAudience`). With a `holdout`, target_recall and
   * min_precision are judged on the holdout's observed labels instead of the expected figures.
   */
  select(rule: AudienceRule, holdout?: HoldoutCurve): AudienceSelection {
    checkRule(rule);
    const n = this.n;
    const cum = this.cum;
    let size: number;
    let basis: AudienceSelection['basis'] = 'count';
    if (rule.kind === 'top_percent') size = countForPercent(rule.percent, n);
    else if (rule.kind === 'top_n') size = Math.min(rule.n, n);
    else if (holdout !== undefined) {
      basis = 'observed';
      const m = rule.kind === 'target_recall' ? holdout.minSizeForRecall(rule.recall) : holdout.maxSizeForPrecision(rule.precision);
      // nearest population count to the holdout share: when N >= holdout size this maps back to the
      // same holdout cut m under observedAtShare(holdout, size / N)
      size = holdout.n === 0 ? 0 : Math.round((m * n) / holdout.n);
    } else if (rule.kind === 'target_recall') {
      basis = 'expected';
      const total = this.totalExpectedBuyers;
      // no expected buyers: recall is 0/0 everywhere and the empty audience already loses none
      const goal = rule.recall * total * (1 - TOL);
      size = total > 0 ? firstTrue(n, (k) => cum[k] >= goal) : 0;
    } else {
      basis = 'expected';
      const q = rule.precision * (1 - TOL);
      // the mean of the top k never rises with k (p is descending), so "meets the floor" is a
      // prefix of sizes: the largest size is one before the first size that fails
      size = n === 0 || cum[1] < q ? 0 : firstTrue(n, (k) => k === n || cum[k + 1] < q * (k + 1));
    }
    return { ...this.cutAt(size), basis };
  }

  /** Expected outcome of the audience `rule` selects, with the cut. */
  forRule(rule: AudienceRule, holdout?: HoldoutCurve): ExpectedOutcome & AudienceSelection {
    const sel = this.select(rule, holdout);
    return { ...this.at(sel.size), ...sel };
  }

  /** How many users score strictly above `t` (binary search on the sorted population). */
  countAbove(t: number): number {
    const s = this.sorted;
    return firstTrue(this.n, (k) => s[k] <= t);
  }

  private cutAt(size: number): Omit<AudienceSelection, 'basis'> {
    if (size === 0) return { size, threshold: null, tiedLeftOut: 0 };
    const s = this.sorted;
    const t = s[size - 1];
    const end = firstTrue(this.n - size, (j) => s[size + j] < t) + size;
    return { size, threshold: t, tiedLeftOut: end - size };
  }
}

/**
 * How many of the scored population `rule` takes. top_percent: ceil(percent / 100 * N); top_n:
 * min(n, N); target_recall: the smallest size whose expected recall (sum of p in the top k / sum
 * of all p) reaches `recall` (0 when no buyers are expected); min_precision: the largest size whose
 * expected precision (mean p of the top k) is at least `precision` (0 if none). Ties: exact k, see
 * the module comment. With a `holdout`, the recall and precision rules are judged on its observed
 * labels at the holdout cut instead, and the population takes the same share (nearest count).
 * O(N) per call (it validates and sums `pSorted`); build one `AudienceCurve` for repeated queries.
 * @throws RangeError on an invalid rule, a NaN / out-of-range p, or `pSorted` not descending.
 */
export function selectAudience(pSorted: Float64Array, rule: AudienceRule, holdout?: HoldoutCurve): AudienceSelection {
  return AudienceCurve.fromSorted(pSorted).select(rule, holdout);
}

/** `AudienceCurve.fromSorted(pSorted).at(size)`: O(N); use the curve for repeated queries. */
export function expectedOutcome(pSorted: Float64Array, size: number): ExpectedOutcome {
  return AudienceCurve.fromSorted(pSorted).at(size);
}

/** What the top `size` of the labelled holdout (by holdout p) actually yielded. */
export interface ObservedOutcome {
  /** holdout users taken */
  size: number;
  holdoutSize: number;
  /** size / holdoutSize; null for an empty holdout */
  share: number | null;
  /** buyers among them; fractional only when the cut splits a tie group (see HoldoutCurve) */
  observedBuyers: number;
  observedPrecision: number | null;
  /** Wilson 95 % interval of observedPrecision; null for an empty audience */
  precisionInterval: [number, number] | null;
  /** share of all holdout buyers captured; null when the holdout has none */
  observedRecall: number | null;
  /** observedPrecision / holdout buyer rate; null for an empty audience or no holdout buyers */
  lift: number | null;
  /** sum of the holdout's own p over the same users: its calibration check at this cut */
  expectedBuyers: number;
}

/**
 * A labelled holdout sorted by p (descending). A cut inside a tie group of g users with b buyers
 * counts b / g buyers per user taken: the mean over all orders of the tied users, so observed
 * figures do not depend on the order rows arrived in.
 */
export class HoldoutCurve {
  readonly n: number;
  readonly totalBuyers: number;
  /** buyer rate; null for an empty holdout */
  readonly baseRate: number | null;

  private constructor(readonly sorted: Float64Array, private readonly cumBuyers: Float64Array, private readonly cumP: Float64Array) {
    this.n = sorted.length;
    this.totalBuyers = cumBuyers[this.n];
    this.baseRate = this.n === 0 ? null : this.totalBuyers / this.n;
  }

  /** @throws RangeError on a length mismatch, a NaN / out-of-range p, or a label other than 0 / 1. */
  static fromLabelled(p: ArrayLike<number>, y: ArrayLike<number>): HoldoutCurve {
    const n = p.length;
    if (y.length !== n) throw new RangeError(`p has length ${n} but y has length ${y.length}`);
    checkProbabilities(p, 'p');
    for (let i = 0; i < n; i++) if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`y[${i}] is ${y[i]}; labels must be 0 or 1`);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => p[b] - p[a] || a - b);
    const sorted = new Float64Array(n);
    for (let k = 0; k < n; k++) sorted[k] = p[order[k]];
    const cumBuyers = new Float64Array(n + 1);
    for (let a = 0; a < n; ) {
      let b = a;
      let buyers = 0;
      while (b < n && sorted[b] === sorted[a]) buyers += y[order[b++]];
      for (let k = a + 1; k <= b; k++) cumBuyers[k] = cumBuyers[a] + (buyers * (k - a)) / (b - a);
      a = b;
    }
    return new HoldoutCurve(sorted, cumBuyers, prefixSums(sorted));
  }

  /** Holdout users in the top `share`: the nearest count, round(share * n). */
  countForShare(share: number): number {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`share must be in [0, 1], got ${share}`);
    return Math.round(share * this.n);
  }

  observedBuyersAt(size: number): number {
    checkCount(size, this.n, 'size');
    return this.cumBuyers[size];
  }

  at(size: number): ObservedOutcome {
    const buyers = this.observedBuyersAt(size);
    const precision = size === 0 ? null : buyers / size;
    const total = this.totalBuyers;
    return {
      size,
      holdoutSize: this.n,
      share: this.n === 0 ? null : size / this.n,
      observedBuyers: buyers,
      observedPrecision: precision,
      precisionInterval: wilsonInterval(buyers, size),
      observedRecall: total > 0 ? buyers / total : null,
      lift: precision !== null && total > 0 ? precision / (total / this.n) : null,
      expectedBuyers: this.cumP[size],
    };
  }

  /** Smallest holdout cut whose observed recall reaches `recall` (0 when the holdout has no buyers). */
  minSizeForRecall(recall: number): number {
    const total = this.totalBuyers;
    const goal = recall * total * (1 - TOL);
    return total > 0 ? firstTrue(this.n, (k) => this.cumBuyers[k] >= goal) : 0;
  }

  /** Largest holdout cut whose observed precision is at least `precision` (0 if none): a scan, since observed precision need not fall monotonically. */
  maxSizeForPrecision(precision: number): number {
    const q = precision * (1 - TOL);
    for (let k = this.n; k >= 1; k--) if (this.cumBuyers[k] >= q * k) return k;
    return 0;
  }
}

/** The holdout's observed counterpart of an audience taking `share` of the population. */
export function observedAtShare(holdout: HoldoutCurve, share: number): ObservedOutcome {
  return holdout.at(holdout.countForShare(share));
}

/**
 * Wilson score interval for a proportion (Wilson 1927): stays inside [0, 1] and keeps close to
 * nominal coverage for small counts and rates near 0 or 1, where the normal interval does not.
 * `successes` may be fractional (tie-averaged buyers). Null when `trials` is 0.
 * @param z @default 1.96 (95 %)
 */
export function wilsonInterval(successes: number, trials: number, z = Z95): [number, number] | null {
  if (!(trials >= 0) || !Number.isFinite(trials)) throw new RangeError(`trials must be a non-negative number, got ${trials}`);
  if (!(successes >= 0 && successes <= trials)) throw new RangeError(`successes must be in [0, ${trials}], got ${successes}`);
  if (trials === 0) return null;
  const ph = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (ph + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((ph * (1 - ph)) / trials + z2n / (4 * trials));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** One decile row of a cumulative gains table. */
export interface GainsRow {
  /** 1..10 */
  decile: number;
  /** users in the top `decile` tenths */
  size: number;
  share: number | null;
  /** cumulative share of (expected or observed) buyers; the last row is 1 */
  buyersShare: number | null;
  /** buyer rate of the top `decile` tenths over the overall rate */
  cumulativeLift: number | null;
  /** buyer rate within this tenth alone over the overall rate; null for an empty tenth */
  decileLift: number | null;
}

function gains(n: number, total: number, sizeOf: (d: number) => number, buyersAt: (size: number) => number): GainsRow[] {
  const rows: GainsRow[] = [];
  const rate = n > 0 && total > 0 ? total / n : null;
  let prevSize = 0;
  let prevBuyers = 0;
  for (let d = 1; d <= 10; d++) {
    const size = sizeOf(d);
    const buyers = buyersAt(size);
    rows.push({
      decile: d,
      size,
      share: n === 0 ? null : size / n,
      buyersShare: total > 0 ? buyers / total : null,
      cumulativeLift: rate !== null && size > 0 ? buyers / size / rate : null,
      decileLift: rate !== null && size > prevSize ? (buyers - prevBuyers) / (size - prevSize) / rate : null,
    });
    prevSize = size;
    prevBuyers = buyers;
  }
  return rows;
}

/** Expected gains by population decile; decile d is the top_percent rule with percent 10 d. */
export function gainsByDecile(curve: AudienceCurve): GainsRow[] {
  return gains(curve.n, curve.totalExpectedBuyers, (d) => countForPercent(10 * d, curve.n), (s) => curve.expectedBuyersAt(s));
}

/** Observed gains by holdout decile; decile d is `observedAtShare(holdout, d / 10)`. */
export function observedGainsByDecile(holdout: HoldoutCurve): GainsRow[] {
  return gains(holdout.n, holdout.totalBuyers, (d) => holdout.countForShare(d / 10), (s) => holdout.observedBuyersAt(s));
}

/**
 * Counts of p over `bins` equal-width bins of [0, 1]: bin i is [i / bins, (i + 1) / bins), the
 * last bin also holds p = 1. `edges` has bins + 1 entries.
 * @param bins @default 20
 */
export function scoreHistogram(p: ArrayLike<number>, bins = 20): { edges: number[]; counts: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  checkProbabilities(p, 'p');
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < p.length; i++) counts[Math.min(bins - 1, Math.floor(p[i] * bins))]++;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i / bins);
  return { edges, counts };
}

/** A share in [0, 1] as a percentage: integers from 10 %, one decimal below, never "100" for a part. */
function percentText(x: number): string {
  const v = x * 100;
  if (v === 0 || v === 100) return String(v);
  if (v < 1) return String(Number(v.toPrecision(2)));
  if (v < 10) return String(Math.round(v * 10) / 10);
  if (v < 99) return String(Math.round(v));
  return String(Math.floor(v * 10) / 10);
}

/** One sentence for the page: "the top 10 % (500 users) hold 37 % of expected buyers, 3.7× random". */
export function plainSummary(outcome: ExpectedOutcome): string {
  const { size, share, expectedRecall, lift } = outcome;
  if (share === null) return 'the population is empty';
  if (size === 0) return 'an empty audience holds no expected buyers';
  const users = `${size.toLocaleString('en-US')} ${size === 1 ? 'user' : 'users'}`;
  const who = share === 1 ? `the whole population (${users}) holds` : `the top ${percentText(share)} % (${users}) hold`;
  if (expectedRecall === null) return `${who} no expected buyers: every probability is 0`;
  const times = lift === null ? '' : `, ${lift < 10 ? lift.toFixed(1) : Math.round(lift)}× random`;
  return `${who} ${percentText(expectedRecall)} % of expected buyers${times}`;
}
