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

/**
 * Reusable per-thread buffers, sized for one data set. A tree copies its in-bag rows into `rows` once
 * and keeps each node's rows contiguous there (partitioning moves whole rows), so every histogram pass
 * streams memory instead of gathering one byte per row from all over the data set.
 */
export interface Workspace {
  count: Int32Array; // bootstrap multiplicity per row
  rows: Uint8Array; // in-bag rows' codes, stride bytes each, node by node
  rows32: Uint32Array; // the same bytes as 32-bit words, for copying and swapping rows
  tag: Int32Array; // count * 2 + y of the row at each position of `rows`, moved with it
  perm: Int32Array; // feature order for the current node
  slotFeature: Int32Array; // features whose histograms one pass builds
  /**
   * [slot * 512 + bin * 2 + class]: bootstrap count + ROW_UNIT * distinct rows, one add per row and
   * feature carrying both sums (exact in a double: both stay below 2^26)
   */
  hist: Float64Array;
  stack: Float64Array; // pending nodes: start, end, depth, id, w0, w1
}

export function createWorkspace(rows: number, cols: number, stride: number): Workspace {
  const buf = new ArrayBuffer(rows * stride);
  return {
    count: new Int32Array(rows), rows: new Uint8Array(buf), rows32: new Uint32Array(buf), tag: new Int32Array(rows),
    perm: new Int32Array(cols), slotFeature: new Int32Array(cols),
    hist: new Float64Array(cols * 512), stack: new Float64Array(6 * 256),
  };
}

/** Weight of one distinct row in a packed histogram cell; rows and bootstrap counts stay below it. */
const ROW_UNIT = 2 ** 26;

/** Rows below which a slot's code range is found from its rows rather than from its 256 bins. */
const RANGE_FROM_ROWS = 256;

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
  const { rows: n, cols: d, stride: S, codes, edges, edgeOffsets } = q;
  if (codes.byteOffset % 4 !== 0 || S % 4 !== 0) throw new Error(`quantised codes must be 4-byte aligned rows (offset ${codes.byteOffset}, stride ${S})`);
  if (n >= ROW_UNIT) throw new RangeError(`at most ${ROW_UNIT - 1} training rows per tree, got ${n}`);
  const words = S >> 2;
  const src = new Uint32Array(codes.buffer, codes.byteOffset, n * words);
  const { count, rows, rows32, tag, perm, slotFeature, hist } = ws;
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
    tag[m] = count[r] * 2 + y[r];
    for (let w = 0, a = r * words, b = m * words; w < words; w++) rows32[b + w] = src[a + w];
    m++;
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
    // As scikit-learn: draw features until mtry non-constant ones were searched or all are exhausted.
    // The draws come in batches whose histograms one pass over the node's rows builds: a batch is as
    // many features as could still be needed (mtry - searched, or one while no valid split was found),
    // so exactly the features the one-at-a-time loop would draw are drawn, in the same order.
    let searched = 0;
    let j = 0;
    while (j < d && (searched < params.mtry || bestF < 0)) {
      const want = searched < params.mtry ? params.mtry - searched : 1;
      let slots = 0;
      for (; j < d && slots < want; j++) {
        const k = j + rng.int(d - j);
        const f = perm[k];
        perm[k] = perm[j];
        perm[j] = f;
        // a feature with one bin over all rows never splits (and the one-at-a-time loop never counted it)
        if (edgeOffsets[f + 1] - edgeOffsets[f] + 1 >= 2) slotFeature[slots++] = f;
      }
      if (slots === 0) break;
      // hist is all-zero here and is reset over each slot's touched code range below
      for (let i = start, base = start * S; i < end; i++, base += S) {
        const t = tag[i];
        const inc = (t >> 1) + ROW_UNIT;
        const cls = t & 1;
        for (let s = 0; s < slots; s++) hist[(s << 9) | (rows[base + slotFeature[s]] << 1) | cls] += inc;
      }
      for (let s = 0; s < slots; s++) {
        const f = slotFeature[s];
        const h = s << 9;
        // the touched code range [cLo, cHi]: from the rows for a small node, from the bins otherwise,
        // so a deep node with a handful of rows costs a handful of bins, not 256
        let cLo = 255;
        let cHi = 0;
        if (size < RANGE_FROM_ROWS) {
          for (let i = start, at = start * S + f; i < end; i++, at += S) {
            const c = rows[at];
            if (c < cLo) cLo = c;
            if (c > cHi) cHi = c;
          }
        } else {
          while (hist[h + (cHi << 1)] + hist[h + (cHi << 1) + 1] === 0 && cHi < 255) cHi++;
          cLo = cHi;
          for (let b = 255; b > cLo; b--) if (hist[h + (b << 1)] + hist[h + (b << 1) + 1] !== 0) { cHi = b; break; }
        }
        if (cLo < cHi) {
          searched++;
          let l0 = 0;
          let l1 = 0;
          let nl = 0;
          for (let b = cLo; b < cHi; b++) {
            const h0 = hist[h + (b << 1)];
            const h1 = hist[h + (b << 1) + 1];
            if (h0 + h1 === 0) continue;
            const n0 = Math.floor(h0 / ROW_UNIT);
            const n1 = Math.floor(h1 / ROW_UNIT);
            l0 += (h0 - n0 * ROW_UNIT) * cw0;
            l1 += (h1 - n1 * ROW_UNIT) * cw1;
            nl += n0 + n1;
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
            while (hist[h + (next << 1)] + hist[h + (next << 1) + 1] === 0) next++;
            bestBin = (bestBin + next - 1) >> 1;
          }
        }
        hist.fill(0, h + (cLo << 1), h + (cHi << 1) + 2);
      }
    }
    if (bestF < 0) continue;
    // partition the node's rows in place: rows going left first, whole rows and their tags swapped
    let lo = start;
    let hi = end - 1;
    for (;;) {
      while (lo <= hi && rows[lo * S + bestF] <= bestBin) lo++;
      while (lo <= hi && rows[hi * S + bestF] > bestBin) hi--;
      if (lo >= hi) break;
      for (let w = 0, a = lo * words, b = hi * words; w < words; w++) {
        const x = rows32[a + w]; rows32[a + w] = rows32[b + w]; rows32[b + w] = x;
      }
      const t = tag[lo]; tag[lo] = tag[hi]; tag[hi] = t;
      lo++;
      hi--;
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
