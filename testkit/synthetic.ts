/**
 * Synthetic binary data with a known true probability, so the best achievable ROC AUC (the "oracle",
 * the AUC of the true probability itself) is known for every sample. Used by bench/train.ts and the
 * forest unit tests.
 *
 * Features are standard normal; feature 3 is a count (floor(exp(z))) to exercise tied values.
 * logit = b + 1.2 x0 + 0.9 x1 - 0.7 x2 + 0.35 x3 + 0.5 x4 + 0.6 x0 x1 + 1.0 [x5 > 0.5] ; the remaining
 * features are noise. b is chosen per call so the base rate is close to `baseRate`.
 */
import type { Matrix } from '../ml/matrix';
import { mixSeed, mulberry32 } from '../ml/rng';

export interface SyntheticData {
  X: Matrix;
  y: Uint8Array;
  /** the true P(y = 1) per row */
  pTrue: Float64Array;
}

/** Number of informative features (the first ones); the rest are noise. */
export const INFORMATIVE_FEATURES = 6;

function logitWithoutBias(x: Float64Array, base: number): number {
  return 1.2 * x[base] + 0.9 * x[base + 1] - 0.7 * x[base + 2] + 0.35 * x[base + 3] + 0.5 * x[base + 4]
    + 0.6 * x[base] * x[base + 1] + (x[base + 5] > 0.5 ? 1 : 0);
}

/**
 * Generate `rows` × `cols` data (cols >= 6). Deterministic for a seed.
 * @param baseRate @default 0.2
 */
export function makeSyntheticData(rows: number, cols: number, seed: number, baseRate = 0.2): SyntheticData {
  if (cols < INFORMATIVE_FEATURES) throw new RangeError(`cols must be >= ${INFORMATIVE_FEATURES}, got ${cols}`);
  const rng = mulberry32(mixSeed(seed, 0xda7a));
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i += 2) {
    // Box–Muller: two normals per pair of uniforms
    const u = 1 - rng.next();
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    data[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  for (let i = 0; i < rows; i++) data[i * cols + 3] = Math.floor(Math.exp(data[i * cols + 3]));
  const raw = new Float64Array(rows);
  for (let i = 0; i < rows; i++) raw[i] = logitWithoutBias(data, i * cols);
  // bisection on the intercept so the mean true probability matches the requested base rate
  let lo = -20;
  let hi = 20;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += 1 / (1 + Math.exp(-(raw[i] + mid)));
    if (mean / rows > baseRate) hi = mid;
    else lo = mid;
  }
  const bias = (lo + hi) / 2;
  const pTrue = new Float64Array(rows);
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    pTrue[i] = 1 / (1 + Math.exp(-(raw[i] + bias)));
    y[i] = rng.next() < pTrue[i] ? 1 : 0;
  }
  return { X: { data, rows, cols }, y, pTrue };
}
