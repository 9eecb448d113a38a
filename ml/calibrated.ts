/**
 * A fitted model with its probability calibration applied wherever it scores: the API (single,
 * array, CSV batch), the promotion gate and holdout evaluation all see calibrated probabilities
 * through the same `ProbabilisticModel` interface.
 */
import { applyCalibrator, type Calibrator } from './calibration';
import type { ProbabilisticModel } from './engines';
import type { Matrix } from './matrix';

/** Checks a calibrator read back from an envelope, so a damaged header fails at load, not as NaN scores. */
export function checkCalibrator(c: unknown): Calibrator {
  const k = c as Partial<Calibrator> | null;
  if (!k || typeof k !== 'object') throw new Error('model envelope calibrator must be an object');
  if (k.kind === 'identity') return { kind: 'identity' };
  if (k.kind === 'platt') {
    const p = k as { a?: unknown; b?: unknown; n?: unknown };
    if (typeof p.a === 'number' && Number.isFinite(p.a) && typeof p.b === 'number' && Number.isFinite(p.b)) return { kind: 'platt', a: p.a, b: p.b, n: Number(p.n ?? 0) };
    throw new Error('model envelope platt calibrator needs finite a and b');
  }
  if (k.kind === 'isotonic') {
    const i = k as { x?: unknown; y?: unknown; n?: unknown };
    const ok = Array.isArray(i.x) && Array.isArray(i.y) && i.x.length > 0 && i.x.length === i.y.length
      && i.x.every((v, j) => typeof v === 'number' && Number.isFinite(v) && (j === 0 || v > (i.x as number[])[j - 1]!))
      && i.y.every((v) => typeof v === 'number' && v >= 0 && v <= 1);
    if (!ok) throw new Error('model envelope isotonic calibrator needs increasing finite x knots and y in [0, 1] of the same length');
    return { kind: 'isotonic', x: i.x as number[], y: i.y as number[], n: Number(i.n ?? 0) };
  }
  throw new Error(`unknown calibrator kind ${JSON.stringify(k.kind)} in model envelope`);
}

export class CalibratedModel implements ProbabilisticModel {
  readonly nFeatures: number;
  constructor(readonly raw: ProbabilisticModel, readonly calibrator: Calibrator) {
    this.nFeatures = raw.nFeatures;
  }

  predictProba(X: Matrix): Float64Array {
    return this.calibrate(this.raw.predictProba(X));
  }

  async predictProbaAsync(X: Matrix): Promise<Float64Array> {
    return this.calibrate(this.raw.predictProbaAsync ? await this.raw.predictProbaAsync(X) : this.raw.predictProba(X));
  }

  private calibrate(p: Float64Array): Float64Array {
    if (this.calibrator.kind === 'identity') return p;
    for (let i = 0; i < p.length; i++) p[i] = applyCalibrator(this.calibrator, p[i]!);
    return p;
  }

  predictProbaRow(row: ArrayLike<number>): number {
    const p = this.raw.predictProbaRow(row);
    return this.calibrator.kind === 'identity' ? p : applyCalibrator(this.calibrator, p);
  }

  featureImportances(): Float64Array | null {
    return this.raw.featureImportances();
  }
}
