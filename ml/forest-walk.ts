/**
 * The batch walk of a fitted forest over raw rows: RandomForest.predictProba runs it, and so does
 * a forest thread scoring its part of a large batch (forest-pool.ts predictSplit). One function,
 * so both give each row the same score bit for bit.
 */

/** Rows per scoring block: 512 rows x 52 features x 8 B = 208 KB, inside L2 with one tree's nodes. */
const PREDICT_BLOCK_ROWS = 512;

/** The node arrays a walk reads. */
export interface WalkNodes {
  threshold: Float64Array;
  left: Int32Array;
  value: Float64Array;
  roots: Int32Array;
  depths: Int32Array;
}

/** Feature per node with leaves mapped to 0, so a walk reads a valid column at a leaf (a leaf's children are itself). */
export function walkFeatures(feature: Int32Array): Int32Array {
  return feature.map((f) => (f < 0 ? 0 : f));
}

/**
 * P(class 1) per row of the row-major `data` (rows × cols): mean over trees of the leaf's
 * (weighted) class-1 frequency, as scikit-learn. Rows go in cache-sized blocks, tree by tree, four
 * rows walked together: their walks are independent, so the CPU overlaps them, and the unary `+`
 * keeps the child choice branch-free. A row's score depends on that row only (trees summed in
 * order 0..T-1, as predictProbaRow does), so any split of the rows gives the same scores.
 */
export function predictBlocks(nodes: WalkNodes, F: Int32Array, data: Float64Array, rows: number, cols: number): Float64Array {
  const { threshold: T, left: L, value: V, roots, depths } = nodes;
  const out = new Float64Array(rows);
  const c2 = 2 * cols;
  const c3 = 3 * cols;
  for (let b0 = 0; b0 < rows; b0 += PREDICT_BLOCK_ROWS) {
    const b1 = Math.min(rows, b0 + PREDICT_BLOCK_ROWS);
    const quads = b0 + ((b1 - b0) & ~3);
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t];
      const depth = depths[t];
      let r = b0;
      for (let base = b0 * cols; r < quads; r += 4, base += 4 * cols) {
        let a = root;
        let b = root;
        let c = root;
        let d = root;
        for (let step = depth; step > 0; step--) {
          a = L[a] + +(data[base + F[a]] > T[a]);
          b = L[b] + +(data[base + cols + F[b]] > T[b]);
          c = L[c] + +(data[base + c2 + F[c]] > T[c]);
          d = L[d] + +(data[base + c3 + F[d]] > T[d]);
        }
        out[r] += V[a];
        out[r + 1] += V[b];
        out[r + 2] += V[c];
        out[r + 3] += V[d];
      }
      for (let base = r * cols; r < b1; r++, base += cols) {
        let a = root;
        for (let step = depth; step > 0; step--) a = L[a] + +(data[base + F[a]] > T[a]);
        out[r] += V[a];
      }
    }
  }
  const n = roots.length;
  for (let r = 0; r < rows; r++) out[r] /= n;
  return out;
}

/** A walk's arrays on SharedArrayBuffers: posted to a thread without copying. */
export interface SharedWalk extends WalkNodes {
  walkFeature: Int32Array;
}

function toShared<T extends Float64Array | Int32Array>(a: T): T {
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/** Copies a forest's walk arrays to shared memory (once per model: 200 trees of depth 10 are ~3 MB). */
export function shareWalk(nodes: WalkNodes, walkFeature: Int32Array): SharedWalk {
  return {
    threshold: toShared(nodes.threshold), left: toShared(nodes.left), value: toShared(nodes.value),
    roots: toShared(nodes.roots), depths: toShared(nodes.depths), walkFeature: toShared(walkFeature),
  };
}
