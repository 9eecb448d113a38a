/**
 * Single-row scoring layout of a forest. Between two API requests the caches fill with everything
 * else, so a single-row walk is bound by memory latency, not arithmetic. This layout shrinks a
 * node to one uint32 (child offset in its tree, feature, threshold rank), so the walked part of a
 * 200-tree forest fits in L2, and runs four trees at a time so their misses overlap.
 *
 * Exactness: per feature f, let u_0 < u_1 < … be the distinct split thresholds of the forest on f
 * and rank(x) = #{j : u_j < x}. Then x > u_k ⟺ rank(x) > k (all of u_0..u_k lie below x, or
 * none of u_k.. do). So comparing ranks takes the same branch as comparing doubles, for every
 * row, and the leaves (summed in tree order) are the same as the batch walk's.
 */

/**
 * All trees of a forest concatenated, in the layout of `TreeArrays` (children adjacent, leaves
 * self-looping with threshold +Infinity) with absolute node indices; tree t starts at roots[t].
 */
export interface FlatNodes {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  value: Float64Array;
  /**
   * Weighted training count per node, for explanations only (scoring never reads it). Empty (length
   * 0) for forests loaded from envelopes written before covers were recorded: such forests explain
   * with Saabas attribution instead of TreeSHAP. Always present, so every key of a FlatForest is an array.
   */
  cover: Float64Array;
  roots: Int32Array;
  depths: Int32Array;
}

export interface RankLayout {
  /** per node: child-pair offset within its tree | feature << featShift | rank << rankShift */
  node: Uint32Array;
  value: Float64Array;
  roots: Int32Array;
  depths: Int32Array;
  /** deepest of trees 4q .. 4q + 3 */
  quadDepth: Int32Array;
  /** distinct thresholds of feature f at cuts[cutStart[f] .. cutStart[f + 1]) ascending */
  cuts: Float64Array;
  cutStart: Int32Array;
  featShift: number;
  rankShift: number;
  offMask: number;
  featMask: number;
  /** per-row scratch: rank of the row's value per feature */
  rank: Int32Array;
}

const bitsFor = (n: number): number => Math.max(1, Math.ceil(Math.log2(n + 1)));

/** The rank layout, or null when offsets, features and ranks do not fit in 32 bits together. */
export function buildRankLayout(flat: FlatNodes, nFeatures: number): RankLayout | null {
  const { feature: F, threshold: T, left: L, value, roots, depths } = flat;
  const n = F.length;
  const perFeature: number[][] = Array.from({ length: nFeatures }, () => []);
  for (let i = 0; i < n; i++) if (F[i] >= 0) perFeature[F[i]].push(T[i]);
  const cutStart = new Int32Array(nFeatures + 1);
  const sorted = perFeature.map((ts) => [...new Set(ts)].sort((a, b) => a - b));
  for (let f = 0; f < nFeatures; f++) cutStart[f + 1] = cutStart[f] + sorted[f].length;
  const cuts = Float64Array.from(sorted.flat());
  let maxTree = 0;
  for (let t = 0; t < roots.length; t++) maxTree = Math.max(maxTree, (t + 1 < roots.length ? roots[t + 1] : n) - roots[t]);
  const maxCuts = Math.max(0, ...sorted.map((s) => s.length));
  const offBits = bitsFor(maxTree);
  const featBits = bitsFor(nFeatures);
  const rankBits = bitsFor(maxCuts); // 2^rankBits - 1 >= maxCuts >= any rank(x): free for leaves
  if (offBits + featBits + rankBits > 32) return null;
  const leafRank = 2 ** rankBits - 1; // >= maxCuts >= rank(x): a leaf never moves on
  const node = new Uint32Array(n);
  for (let t = 0; t < roots.length; t++) {
    const r0 = roots[t];
    const end = t + 1 < roots.length ? roots[t + 1] : n;
    for (let i = r0; i < end; i++) {
      const f = F[i];
      const rank = f < 0 ? leafRank : binaryIndex(cuts, cutStart[f], cutStart[f + 1], T[i]);
      const word = (L[i] - r0) + (f < 0 ? 0 : f) * 2 ** offBits + rank * 2 ** (offBits + featBits);
      node[i] = word;
    }
  }
  const quadDepth = new Int32Array(roots.length >> 2);
  for (let q = 0; q < quadDepth.length; q++) {
    quadDepth[q] = Math.max(depths[4 * q], depths[4 * q + 1], depths[4 * q + 2], depths[4 * q + 3]);
  }
  return {
    node, value, roots, depths, quadDepth, cuts, cutStart, featShift: offBits, rankShift: offBits + featBits,
    offMask: 2 ** offBits - 1, featMask: 2 ** featBits - 1, rank: new Int32Array(nFeatures),
  };
}

function binaryIndex(cuts: Float64Array, lo: number, hi: number, v: number): number {
  const start = lo;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cuts[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo - start; // number of cuts below v
}

/** P(class 1) of one row: trees summed in index order, so bit-identical to the batch walk. */
export function predictRowRanked(layout: RankLayout, row: ArrayLike<number>): number {
  const { node: N, value: V, roots, depths, quadDepth, cuts, cutStart, rank, featShift: fs, rankShift: rs, offMask: om, featMask: fm } = layout;
  for (let f = 0; f < rank.length; f++) rank[f] = binaryIndex(cuts, cutStart[f], cutStart[f + 1], row[f]);
  const nt = roots.length;
  const nq = nt & ~3;
  let sum = 0;
  let t = 0;
  for (; t < nq; t += 4) {
    const ra = roots[t], rb = roots[t + 1], rc = roots[t + 2], rd = roots[t + 3];
    let a = 0, b = 0, c = 0, d = 0;
    // the deepest of the four: shallower trees sit on their self-looping leaf for the extra steps
    for (let step = quadDepth[t >> 2]; step > 0; step--) {
      const wa = N[ra + a], wb = N[rb + b], wc = N[rc + c], wd = N[rd + d];
      a = (wa & om) + +(rank[(wa >>> fs) & fm] > wa >>> rs);
      b = (wb & om) + +(rank[(wb >>> fs) & fm] > wb >>> rs);
      c = (wc & om) + +(rank[(wc >>> fs) & fm] > wc >>> rs);
      d = (wd & om) + +(rank[(wd >>> fs) & fm] > wd >>> rs);
    }
    sum += V[ra + a];
    sum += V[rb + b];
    sum += V[rc + c];
    sum += V[rd + d];
  }
  for (; t < nt; t++) {
    const r0 = roots[t];
    let a = 0;
    for (let step = depths[t]; step > 0; step--) {
      const w = N[r0 + a];
      a = (w & om) + +(rank[(w >>> fs) & fm] > w >>> rs);
    }
    sum += V[r0 + a];
  }
  return sum / nt;
}

/**
 * Node i at bytes [16 i, 16 i + 16): threshold (float64), then left child and walk feature (int32),
 * so one step of a walk reads one cache line. `quadDepth[q]` is the deepest of trees 4q .. 4q + 3.
 */
export interface PackedNodes {
  th: Float64Array; // threshold of node i at th[2 i]
  ix: Int32Array; // left child at ix[4 i + 2], walk feature at ix[4 i + 3] (same buffer as th)
  quadDepth: Int32Array;
}

export function packForRows(flat: FlatNodes, walkFeature: Int32Array): PackedNodes {
  const n = flat.threshold.length;
  const buf = new ArrayBuffer(n * 16);
  const th = new Float64Array(buf);
  const ix = new Int32Array(buf);
  for (let i = 0; i < n; i++) {
    th[2 * i] = flat.threshold[i];
    ix[4 * i + 2] = flat.left[i];
    ix[4 * i + 3] = walkFeature[i];
  }
  const { depths } = flat;
  const quadDepth = new Int32Array(depths.length >> 2);
  for (let q = 0; q < quadDepth.length; q++) {
    quadDepth[q] = Math.max(depths[4 * q], depths[4 * q + 1], depths[4 * q + 2], depths[4 * q + 3]);
  }
  return { th, ix, quadDepth };
}

/** The fallback walk on PackedNodes: same order of trees and leaves as predictRowRanked. */
export function predictRowPacked(p: PackedNodes, flat: FlatNodes, row: ArrayLike<number>): number {
  const { th, ix, quadDepth } = p;
  const { value: V, roots, depths } = flat;
  const nt = roots.length;
  const nq = nt & ~3;
  let sum = 0;
  let t = 0;
  for (; t < nq; t += 4) {
    let a = roots[t];
    let b = roots[t + 1];
    let c = roots[t + 2];
    let d = roots[t + 3];
    for (let step = quadDepth[t >> 2]; step > 0; step--) {
      a = ix[4 * a + 2] + +(row[ix[4 * a + 3]] > th[2 * a]);
      b = ix[4 * b + 2] + +(row[ix[4 * b + 3]] > th[2 * b]);
      c = ix[4 * c + 2] + +(row[ix[4 * c + 3]] > th[2 * c]);
      d = ix[4 * d + 2] + +(row[ix[4 * d + 3]] > th[2 * d]);
    }
    sum += V[a];
    sum += V[b];
    sum += V[c];
    sum += V[d];
  }
  for (; t < nt; t++) {
    let a = roots[t];
    for (let step = depths[t]; step > 0; step--) a = ix[4 * a + 2] + +(row[ix[4 * a + 3]] > th[2 * a]);
    sum += V[a];
  }
  return sum / nt;
}
