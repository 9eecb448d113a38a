/**
 * Exact additive attributions of a retail24 forest's P(class 1) to its features, per row:
 * expectedValue + sum(contributions) equals predictProbaRow(row) up to float rounding.
 *
 * - 'tree-shap-path-dependent': SHAP values with the path-dependent conditional expectation
 *   (absent features follow both children, weighted by training cover), computed exactly by
 *   Algorithm 2 of Lundberg, Erion et al. 2020, "From local explanations to global understanding
 *   with explainable AI for trees", Nature Machine Intelligence 2:56–67 (EXTEND / UNWIND), as the
 *   `shap` package's tree_shap.h (tree_path_dependent). Per row O(T · L · D²) time for T trees of
 *   at most L leaves and depth D (O(D) per node, O(h · D) per leaf for its h features that x
 *   follows), O(D²) scratch allocated once per forest and reused. expectedValue is the mean over
 *   trees of the cover-weighted mean leaf value (the root value when child covers add up).
 * - 'saabas': Saabas 2014, "Interpreting random forests" (the treeinterpreter package): each split on
 *   the decision path credits its feature with value(child) − value(parent); expectedValue is the
 *   mean root value. O(T · D) per row. Not a Shapley value (it ignores interactions off the path);
 *   the fallback for forests loaded from envelopes without per-node covers.
 *
 * A forest's output is the mean of its trees' leaf values, so both average per-tree attributions.
 */
import type { FlatForest, RandomForest } from './forest';
import { assertMatrix, type Matrix } from './matrix';

export const EXPLAIN_METHODS = { treeShap: 'tree-shap-path-dependent', saabas: 'saabas' } as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[keyof typeof EXPLAIN_METHODS];

export interface ExplainOptions {
  /** Attribution method. @default 'tree-shap-path-dependent' when the forest has covers (forest.hasCover), else 'saabas' */
  method?: ExplainMethod;
}

export interface RowExplanation {
  method: ExplainMethod;
  /** the model's output with no feature known; contributions are relative to it */
  expectedValue: number;
  /** signed contribution per feature, in P(class 1) units */
  contributions: Float64Array;
}

/** One feature's share of a score. */
export interface FeatureContribution {
  feature: number;
  contribution: number;
}

const EMPTY: Float64Array = new Float64Array(0);

/**
 * Path-dependent TreeSHAP over one forest: scratch for the unique path, sized once by the deepest tree.
 *
 * A port of tree_shap.h's tree_shap_recursive (without its conditioning arguments) with exact
 * rewrites for speed, all checked against subset enumeration in test/unit/ml/explain.test.ts:
 * - one fractions are 0 or 1 here (a path follows x at every split on a feature or it does not);
 *   for an element with one fraction 0 and zero fraction z the unwound sum is
 *   (d + 1) / z · Σ_i w_i / (d − i), so its contribution w · (0 − z) · v is the same
 *   −(d + 1) · v · Σ_i w_i / (d − i) for all of them: one O(d) sum per leaf, not one per element;
 * - the elements with one fraction 1 run their O(d) unwinding two at a time, with the loop-carried
 *   chain cut to one multiply and one subtract, so the CPU overlaps them;
 * - a per-feature flag replaces the O(d) search for an earlier split on the same feature;
 * - divisions by small integers are multiplications by a table of reciprocals.
 */
class TreeShap {
  private readonly pf: Int32Array; // feature of each path element (-1: the root's dummy)
  private readonly pz: Float64Array; // zero fraction: share of cover following the element when its feature is absent
  private readonly po: Float64Array; // one fraction: 1 if x follows the element, else 0
  private readonly pw: Float64Array; // permutation weight
  private readonly recip: Float64Array; // recip[n] = 1 / n
  private readonly hotAt: Int32Array; // leaf scratch: path positions whose one fraction is 1
  private readonly onPath: Uint8Array; // 1 for features split on above the current node
  private row: ArrayLike<number> = [];
  private phi: Float64Array = EMPTY;
  /** mean over trees of the tree's value with no feature known */
  readonly expectedValue: number;

  constructor(private readonly flat: FlatForest) {
    const maxd = flat.depths.reduce((m, d) => Math.max(m, d), 0) + 2;
    // tree_shap.h's bound: the path segments of all recursion levels, (D + 2)(D + 3) / 2 elements
    const size = (maxd * (maxd + 1)) / 2;
    this.pf = new Int32Array(size);
    this.pz = new Float64Array(size);
    this.po = new Float64Array(size);
    this.pw = new Float64Array(size);
    this.hotAt = new Int32Array(maxd + 1);
    this.onPath = new Uint8Array(flat.importances.length);
    this.recip = Float64Array.from({ length: maxd + 2 }, (_, n) => (n === 0 ? 0 : 1 / n));
    let sum = 0;
    for (let t = 0; t < flat.roots.length; t++) sum += this.expectation(flat.roots[t]);
    this.expectedValue = sum / flat.roots.length;
  }

  /** Adds the sum over trees of the row's SHAP values to phi (the caller divides by the tree count). */
  accumulate(row: ArrayLike<number>, phi: Float64Array): void {
    this.row = row;
    this.phi = phi;
    const { roots } = this.flat;
    try {
      for (let t = 0; t < roots.length; t++) this.recurse(roots[t], 0, 0, 1, 1, -1);
    } finally {
      // a throwing row (a getter) must not leave flags set for the next call; and no references kept
      this.onPath.fill(0);
      this.row = [];
      this.phi = EMPTY;
    }
  }

  /** The tree's output with every feature absent, with the same cover ratios the recursion uses. */
  private expectation(node: number): number {
    const { feature: F, left: L, value: V, cover: C } = this.flat;
    if (F[node] < 0) return V[node];
    const l = L[node];
    return (C[l] / C[node]) * this.expectation(l) + (C[l + 1] / C[node]) * this.expectation(l + 1);
  }

  // `parent` is the parent's path segment; this node's copy starts after it, so returning restores
  // the parent's path without undoing anything
  private recurse(node: number, depth: number, parent: number, zero: number, one: number, feature: number): void {
    const { pf, pz, po, pw } = this;
    const { feature: F, threshold: T, left: L, cover: C } = this.flat;
    const at = parent + depth + 1;
    for (let i = 0; i < depth; i++) {
      pf[at + i] = pf[parent + i]; pz[at + i] = pz[parent + i]; po[at + i] = po[parent + i]; pw[at + i] = pw[parent + i];
    }
    this.extend(at, depth, zero, one, feature);
    const f = F[node];
    if (f < 0) {
      this.leaf(at, depth, node);
      return;
    }
    const l = L[node];
    // the same comparison as scoring (x > threshold goes right), so NaN takes the same branch
    const hot = l + +(this.row[f] > T[node]);
    const cold = hot === l ? l + 1 : l;
    const w = C[node];
    let inZero = 1;
    let inOne = 1;
    const seen = this.onPath[f];
    if (seen) {
      // the feature was split on above: undo that extension and redo it with both splits' fractions
      let k = 1;
      while (k <= depth && pf[at + k] !== f) k++;
      if (k > depth) throw new Error(`TreeSHAP: feature ${f} is flagged but not on the path at node ${node}`);
      inZero = pz[at + k];
      inOne = po[at + k];
      this.unwind(at, depth, k);
      depth--;
    } else {
      this.onPath[f] = 1;
    }
    this.recurse(hot, depth + 1, at, (C[hot] / w) * inZero, inOne, f);
    this.recurse(cold, depth + 1, at, (C[cold] / w) * inZero, 0, f);
    if (!seen) this.onPath[f] = 0;
  }

  private extend(at: number, depth: number, zero: number, one: number, feature: number): void {
    const { pf, pz, po, pw } = this;
    const inv = this.recip[depth + 1];
    pf[at + depth] = feature;
    pz[at + depth] = zero;
    po[at + depth] = one;
    // pw[i + 1] gets the one-share of the old pw[i] plus the zero-share of the old pw[i + 1], carried in `upper`
    let upper = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      const w = pw[at + i];
      pw[at + i + 1] = upper + one * w * (i + 1) * inv;
      upper = zero * w * (depth - i) * inv;
    }
    pw[at] = upper;
  }

  private unwind(at: number, depth: number, k: number): void {
    const { pf, pz, po, pw, recip } = this;
    const zero = pz[at + k];
    const inv = recip[depth + 1];
    if (po[at + k] !== 0) {
      let next = pw[at + depth];
      for (let i = depth - 1; i >= 0; i--) {
        const tmp = pw[at + i];
        pw[at + i] = next * (depth + 1) * recip[i + 1];
        next = tmp - pw[at + i] * zero * (depth - i) * inv;
      }
    } else {
      for (let i = depth - 1; i >= 0; i--) pw[at + i] = (pw[at + i] * (depth + 1) * recip[depth - i]) / zero;
    }
    for (let i = k; i < depth; i++) {
      pf[at + i] = pf[at + i + 1];
      pz[at + i] = pz[at + i + 1];
      po[at + i] = po[at + i + 1];
    }
  }

  /** phi[feature of element k] += unwound sum of k · (one_k − zero_k) · leaf value, for k = 1..depth. */
  private leaf(at: number, depth: number, node: number): void {
    const { pf, pz, po, pw, recip, phi, hotAt } = this;
    const v = this.flat.value[node];
    let coldSum = 0;
    for (let i = 0; i < depth; i++) coldSum += pw[at + i] * recip[depth - i];
    const cold = -(depth + 1) * coldSum * v;
    let nh = 0;
    for (let k = 1; k <= depth; k++) {
      if (po[at + k] === 0) phi[pf[at + k]] += cold;
      else hotAt[nh++] = at + k;
    }
    // unwound sum = (d + 1) Σ_i n_i / (i + 1) with n_{d-1} = w_d, n_{i-1} = w_i − n_i · z (d − i) / (i + 1);
    // two elements at a time: their chains are independent, so the CPU overlaps them
    const scale = (depth + 1) * v;
    const wd = pw[at + depth];
    let h = 0;
    for (; h + 1 < nh; h += 2) {
      const za = pz[hotAt[h]];
      const zb = pz[hotAt[h + 1]];
      let na = wd, nb = wd, ta = 0, tb = 0;
      for (let i = depth - 1; i >= 0; i--) {
        const r = recip[i + 1];
        const c = (depth - i) * r;
        const w = pw[at + i];
        ta += na * r;
        tb += nb * r;
        na = w - na * (za * c);
        nb = w - nb * (zb * c);
      }
      phi[pf[hotAt[h]]] += scale * ta * (1 - za);
      phi[pf[hotAt[h + 1]]] += scale * tb * (1 - zb);
    }
    if (h < nh) {
      const za = pz[hotAt[h]];
      let na = wd, ta = 0;
      for (let i = depth - 1; i >= 0; i--) {
        const r = recip[i + 1];
        ta += na * r;
        na = pw[at + i] - na * (za * (depth - i) * r);
      }
      phi[pf[hotAt[h]]] += scale * ta * (1 - za);
    }
  }
}

/** Adds the sum over trees of the row's Saabas contributions to phi. */
function saabas(flat: FlatForest, row: ArrayLike<number>, phi: Float64Array): void {
  const { feature: F, threshold: T, left: L, value: V, roots } = flat;
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t];
    for (let f = F[node]; f >= 0; f = F[node]) {
      const child = L[node] + +(row[f] > T[node]);
      phi[f] += V[child] - V[node];
      node = child;
    }
  }
}

// built on a forest's first TreeSHAP explanation and kept with it (scratch and expected value)
const treeShaps = new WeakMap<RandomForest, TreeShap>();

function treeShapOf(forest: RandomForest): TreeShap {
  let ts = treeShaps.get(forest);
  if (!ts) treeShaps.set(forest, (ts = new TreeShap(forest.flat)));
  return ts;
}

function resolveMethod(forest: RandomForest, options: ExplainOptions): ExplainMethod {
  for (const key of Object.keys(options)) if (key !== 'method') throw new RangeError(`unknown explain option "${key}"`);
  const method = options.method ?? (forest.hasCover ? EXPLAIN_METHODS.treeShap : EXPLAIN_METHODS.saabas);
  if (method !== EXPLAIN_METHODS.treeShap && method !== EXPLAIN_METHODS.saabas) {
    throw new RangeError(`method must be '${EXPLAIN_METHODS.treeShap}' or '${EXPLAIN_METHODS.saabas}', got ${String(method)}`);
  }
  if (method === EXPLAIN_METHODS.treeShap && !forest.hasCover) {
    throw new RangeError(`method '${method}' needs per-node covers, which this forest lacks (saved before they were recorded); refit it or use '${EXPLAIN_METHODS.saabas}'`);
  }
  return method;
}

/** The forest's output with no feature known, as each method defines it. */
function expectedValueOf(forest: RandomForest, method: ExplainMethod): number {
  if (method === EXPLAIN_METHODS.treeShap) return treeShapOf(forest).expectedValue;
  const { value, roots } = forest.flat;
  let sum = 0;
  for (let t = 0; t < roots.length; t++) sum += value[roots[t]];
  return sum / roots.length;
}

/** Writes the row's mean-over-trees contributions into phi (zeroed here). */
function explainInto(forest: RandomForest, method: ExplainMethod, row: ArrayLike<number>, phi: Float64Array): void {
  phi.fill(0);
  if (method === EXPLAIN_METHODS.treeShap) treeShapOf(forest).accumulate(row, phi);
  else saabas(forest.flat, row, phi);
  const nt = forest.nTrees;
  for (let f = 0; f < phi.length; f++) phi[f] /= nt;
}

/**
 * Attributions of one row's P(class 1): expectedValue + sum(contributions) = predictProbaRow(row)
 * up to float rounding. Throws RangeError on a wrong-length row or a bad option.
 */
export function explainRow(forest: RandomForest, row: ArrayLike<number>, options: ExplainOptions = {}): RowExplanation {
  if (row.length !== forest.nFeatures) throw new RangeError(`row has ${row.length} values, the model expects ${forest.nFeatures}`);
  const method = resolveMethod(forest, options);
  const contributions = new Float64Array(forest.nFeatures);
  explainInto(forest, method, row, contributions);
  return { method, expectedValue: expectedValueOf(forest, method), contributions };
}

/** Attributions of every row of X, as explainRow: contributions row-major, X.rows × nFeatures. */
export function explainBatch(forest: RandomForest, X: Matrix, options: ExplainOptions = {}): RowExplanation {
  assertMatrix(X, forest.nFeatures);
  const method = resolveMethod(forest, options);
  const { data, rows, cols } = X;
  const contributions = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    explainInto(forest, method, data.subarray(r * cols, (r + 1) * cols), contributions.subarray(r * cols, (r + 1) * cols));
  }
  return { method, expectedValue: expectedValueOf(forest, method), contributions };
}

/** Global importance: mean |contribution| per feature over the rows of X (P(class 1) units; no row matrix kept). */
export function meanAbsContributions(forest: RandomForest, X: Matrix, options: ExplainOptions = {}): { method: ExplainMethod; meanAbs: Float64Array } {
  assertMatrix(X, forest.nFeatures);
  if (X.rows === 0) throw new RangeError('meanAbsContributions needs at least one row');
  const method = resolveMethod(forest, options);
  const { data, rows, cols } = X;
  const phi = new Float64Array(cols);
  const meanAbs = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    explainInto(forest, method, data.subarray(r * cols, (r + 1) * cols), phi);
    for (let f = 0; f < cols; f++) meanAbs[f] += Math.abs(phi[f]);
  }
  for (let f = 0; f < cols; f++) meanAbs[f] /= rows;
  return { method, meanAbs };
}

/**
 * The k features with the largest |contribution|, largest first (ties: lower feature index first),
 * signs kept; features contributing exactly 0 are left out, so fewer than k may come back.
 */
export function topContributions(contributions: ArrayLike<number>, k: number): FeatureContribution[] {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be an integer >= 0, got ${k}`);
  const order: number[] = [];
  for (let f = 0; f < contributions.length; f++) if (contributions[f] !== 0) order.push(f);
  order.sort((a, b) => Math.abs(contributions[b]) - Math.abs(contributions[a]) || a - b);
  return order.slice(0, k).map((feature) => ({ feature, contribution: contributions[feature] }));
}
