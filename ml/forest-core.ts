/**
 * The hot core: grows one histogram-split CART tree on quantised data. Pure and synchronous so the
 * same code runs in the main thread (nThreads = 1) and in worker threads (forest-thread.ts).
 */
import type { Quantized } from './quantize';
import { mixSeed, mulberry32 } from './rng';

/** Everything a tree build needs besides the data; plain data so it can cross postMessage. */
export interface CoreParams {
  maxDepth: number; // Infinity when unlimited
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** features drawn per split */
  mtry: number;
  bootstrap: boolean;
  /** class weights [w0, w1] */
  classWeight: [number, number];
  seed: number;
}

/**
 * One tree as flat arrays. Children are adjacent: a split node goes to left[i] when x <= threshold[i]
 * and to left[i] + 1 otherwise. A leaf has feature -1, threshold +Infinity and left[i] = i, so a walk
 * of exactly `depth` steps lands on the right leaf for every row without a branch on leaf-ness.
 * value[i] is the node's weighted class-1 frequency (a leaf's is its P(class 1)); cover[i] is the
 * weighted training count reaching the node (bootstrap multiplicity times class weight), which
 * path-dependent TreeSHAP (ml/explain.ts) needs and scoring never reads.
 */
export interface TreeArrays {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  value: Float64Array;
  cover: Float64Array;
  /** depth of the deepest leaf (0 for a single leaf) */
  depth: number;
  /** weighted impurity decrease per feature, normalised to sum 1 (all 0 for a stump) */
  importances: Float64Array;
}

/** Reusable per-thread buffers, sized for one data set. */
export interface Workspace {
  count: Int32Array; // bootstrap multiplicity per row
  tag: Int32Array; // count * 2 + y, one random read per row in the histogram loop
  idx: Int32Array; // in-bag rows, partitioned node by node
  perm: Int32Array; // feature order for the current node
  hist: Int32Array; // [bin * 2 + class] bootstrap counts (integers: cheaper adds than float)
  uniq: Int32Array; // distinct rows per bin, for minSamplesLeaf
  stack: Float64Array; // pending nodes: start, end, depth, id, w0, w1
}

export function createWorkspace(rows: number, cols: number): Workspace {
  return {
    count: new Int32Array(rows), tag: new Int32Array(rows), idx: new Int32Array(rows), perm: new Int32Array(cols),
    hist: new Int32Array(512), uniq: new Int32Array(256), stack: new Float64Array(6 * 256),
  };
}

const gini = (w0: number, w1: number): number => {
  const w = w0 + w1;
  return w > 0 ? 1 - (w0 * w0 + w1 * w1) / (w * w) : 0;
};

class TreeBuffer {
  n = 0;
  feature = new Int32Array(64);
  threshold = new Float64Array(64);
  left = new Int32Array(64);
  value = new Float64Array(64);
  cover = new Float64Array(64);
  add(value: number, cover: number): number {
    if (this.n === this.feature.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.feature = grow(this.feature); this.threshold = grow(this.threshold);
      this.left = grow(this.left); this.value = grow(this.value); this.cover = grow(this.cover);
    }
    this.feature[this.n] = -1;
    this.threshold[this.n] = Infinity;
    this.left[this.n] = this.n;
    this.value[this.n] = value;
    this.cover[this.n] = cover;
    return this.n++;
  }
}

/** Grow tree `treeIndex` of a forest seeded by `params.seed`. */
export function buildTree(q: Quantized, y: Uint8Array, params: CoreParams, treeIndex: number, ws: Workspace): TreeArrays {
  const { rows: n, cols: d, codes, edges, edgeOffsets } = q;
  const { count, tag, idx, perm, hist, uniq } = ws;
  const rng = mulberry32(mixSeed(params.seed, treeIndex));
  const [cw0, cw1] = params.classWeight;
  const minLeaf = params.minSamplesLeaf;
  count.fill(0);
  if (params.bootstrap) for (let k = 0; k < n; k++) count[rng.int(n)]++;
  else count.fill(1);
  let m = 0;
  let root0 = 0;
  let root1 = 0;
  for (let r = 0; r < n; r++) {
    if (count[r] === 0) continue;
    idx[m++] = r;
    tag[r] = count[r] * 2 + y[r];
    if (y[r] === 1) root1 += count[r] * cw1;
    else root0 += count[r] * cw0;
  }
  for (let f = 0; f < d; f++) perm[f] = f;
  const tree = new TreeBuffer();
  const importances = new Float64Array(d);
  let stack = ws.stack;
  let sp = 0;
  let maxDepth = 0;
  const push = (start: number, end: number, depth: number, id: number, w0: number, w1: number): void => {
    if (depth > maxDepth) maxDepth = depth;
    if (sp + 6 > stack.length) {
      const s = new Float64Array(stack.length * 2);
      s.set(stack);
      stack = ws.stack = s;
    }
    stack[sp++] = start; stack[sp++] = end; stack[sp++] = depth; stack[sp++] = id; stack[sp++] = w0; stack[sp++] = w1;
  };
  push(0, m, 0, tree.add(root1 / (root0 + root1), root0 + root1), root0, root1);
  while (sp > 0) {
    const w1 = stack[--sp]; const w0 = stack[--sp]; const id = stack[--sp];
    const depth = stack[--sp]; const end = stack[--sp]; const start = stack[--sp];
    const size = end - start;
    if (depth >= params.maxDepth || size < params.minSamplesSplit || size < 2 * minLeaf || w0 === 0 || w1 === 0) continue;
    const W = w0 + w1;
    let bestProxy = -Infinity;
    let bestF = -1;
    let bestBin = 0;
    let bestL0 = 0;
    let bestL1 = 0;
    // as scikit-learn: draw features until mtry non-constant ones were searched or all are exhausted
    let searched = 0;
    for (let j = 0; j < d && (searched < params.mtry || bestF < 0); j++) {
      const k = j + rng.int(d - j);
      const f = perm[k];
      perm[k] = perm[j];
      perm[j] = f;
      const nb = edgeOffsets[f + 1] - edgeOffsets[f] + 1;
      if (nb < 2) continue;
      // hist and uniq are all-zero here; only the touched code range [lo, hi] is scanned and reset,
      // so a deep node with a handful of rows costs a handful of bins, not maxBins
      const base = f * n;
      let cLo = 255;
      let cHi = 0;
      for (let i = start; i < end; i++) {
        const r = idx[i];
        const c = codes[base + r];
        const t = tag[r];
        hist[(c << 1) | (t & 1)] += t >> 1;
        uniq[c]++;
        if (c < cLo) cLo = c;
        if (c > cHi) cHi = c;
      }
      if (cLo < cHi) {
        searched++;
        let l0 = 0;
        let l1 = 0;
        let nl = 0;
        for (let b = cLo; b < cHi; b++) {
          if (uniq[b] === 0) continue;
          l0 += hist[b << 1] * cw0;
          l1 += hist[(b << 1) | 1] * cw1;
          nl += uniq[b];
          if (nl < minLeaf) continue;
          if (size - nl < minLeaf) break;
          const wl = l0 + l1;
          const r0 = w0 - l0;
          const r1 = w1 - l1;
          const proxy = (l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / (r0 + r1);
          if (proxy > bestProxy) {
            bestProxy = proxy; bestF = f; bestBin = b; bestL0 = l0; bestL1 = l1;
          }
        }
        // the winning bin's upper edge only matters if this feature won; pick the middle of the empty gap
        if (bestF === f) {
          let next = bestBin + 1;
          while (uniq[next] === 0) next++;
          bestBin = (bestBin + next - 1) >> 1;
        }
      }
      hist.fill(0, cLo << 1, (cHi << 1) + 2);
      uniq.fill(0, cLo, cHi + 1);
    }
    if (bestF < 0) continue;
    const base = bestF * n;
    let lo = start;
    let hi = end - 1;
    while (lo <= hi) {
      if (codes[base + idx[lo]] <= bestBin) lo++;
      else {
        const t = idx[lo]; idx[lo] = idx[hi]; idx[hi] = t; hi--;
      }
    }
    const r0 = w0 - bestL0;
    const r1 = w1 - bestL1;
    importances[bestF] += W * gini(w0, w1) - (bestL0 + bestL1) * gini(bestL0, bestL1) - (r0 + r1) * gini(r0, r1);
    tree.feature[id] = bestF;
    tree.threshold[id] = edges[edgeOffsets[bestF] + bestBin];
    // ids first (add may reallocate the arrays), then push right before left so the left subtree is
    // grown next (depth-first keeps the stack small)
    const leftId = tree.add(bestL1 / (bestL0 + bestL1), bestL0 + bestL1);
    tree.add(r1 / (r0 + r1), r0 + r1);
    tree.left[id] = leftId;
    push(lo, end, depth + 1, leftId + 1, r0, r1);
    push(start, lo, depth + 1, leftId, bestL0, bestL1);
  }
  let total = 0;
  for (let f = 0; f < d; f++) total += importances[f];
  if (total > 0) for (let f = 0; f < d; f++) importances[f] /= total;
  const k = tree.n;
  return {
    feature: tree.feature.slice(0, k), threshold: tree.threshold.slice(0, k), left: tree.left.slice(0, k),
    value: tree.value.slice(0, k), cover: tree.cover.slice(0, k), depth: maxDepth, importances,
  };
}
