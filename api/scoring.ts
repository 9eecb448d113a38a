import { validateRawUser } from '../data/validate';
import { transform } from '../data/features';
import { CANONICAL_COLUMNS } from '../data/record';
import type { Mapping } from '../data/mapping';
import type { LoadedModel } from '../store/model-loader';
import { HttpError } from './errors';
import { percentileOf } from '../ml/percentile';

export { percentileOf };

interface ServingShape {
  mapping: Mapping;
  allowed: Set<string>;
  allowedList: string;
  buf: Float64Array;
  /** `model` of every response, built once (JSON.stringify only reads it). */
  modelInfo: Readonly<{ name: string; version: number; threshold: number }>;
  /** The holdout's calibrated scores, sorted (a sample of at most 1,001): a user's percentile is its rank among them. */
  quantiles: Float64Array | null;
}

// Per loaded model, built once: the request path must not rebuild sets or mappings per user.
const shapes = new WeakMap<LoadedModel, ServingShape>();

/** The mapping serving uses (canonical names, the model's pass-through columns, its time zone) and the allowed field names. */
export function servingShape(m: LoadedModel): ServingShape {
  let s = shapes.get(m);
  if (!s) {
    const allowed = new Set<string>([...CANONICAL_COLUMNS, ...m.spec.passThrough]);
    s = {
      mapping: { columns: {}, features: Object.fromEntries(m.spec.passThrough.map((n) => [n, 'numeric' as const])), timezone: m.spec.timezone },
      allowed,
      allowedList: [...allowed].join(', '),
      buf: new Float64Array(m.spec.names.length),
      modelInfo: Object.freeze({ name: m.modelName, version: m.version, threshold: m.threshold }),
      quantiles: m.doc.scoreQuantiles?.length ? Float64Array.from(m.doc.scoreQuantiles) : null,
    };
    shapes.set(m, s);
  }
  return s;
}

export interface Scored {
  user_id: string;
  /** Calibrated P(purchase within 24 h of first open). */
  probability: number;
  decision: boolean;
  /** Rank among the holdout's calibrated scores, 0–100 (null for models without a stored score distribution). */
  percentile: number | null;
  firstOpen: number;
}

/**
 * Validates one raw user (DATA.md fields; unknown fields refused), builds its vector with the
 * model's frozen spec and scores it. `path` prefixes field names in errors (`[3].`).
 * @throws HttpError 400 naming the first bad field and its rule; `details` lists every one.
 */
export function scoreOne(m: LoadedModel, body: unknown, path: string): Scored {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid-body', `${path ? path.slice(0, -1) : 'body'} must be a JSON object with the raw user fields`);
  }
  const shape = servingShape(m);
  const fields = body as Record<string, unknown>;
  for (const k in fields) {
    if (!shape.allowed.has(k)) {
      const unknown = Object.keys(fields).filter((f) => !shape.allowed.has(f));
      throw new HttpError(400, 'unknown-field', `${path}${unknown[0]}: unknown field (allowed: ${shape.allowedList})`,
        unknown.map((f) => ({ field: `${path}${f}`, rule: 'unknown-field', message: 'unknown field' })));
    }
  }
  const v = validateRawUser(fields, shape.mapping);
  if (!v.ok) {
    const first = v.errors[0]!;
    throw new HttpError(400, 'invalid-field', `${path}${first.field}: ${first.message} (${first.rule})`,
      v.errors.map((e) => ({ field: `${path}${e.field}`, rule: e.rule, message: e.message })));
  }
  // The shared buffer is safe: scoring is synchronous, nothing else runs between transform and predict.
  const p = m.model.predictProbaRow(transform(m.spec, v.record, shape.buf));
  return { user_id: v.record.userId, probability: p, decision: p >= m.threshold, percentile: percentileOf(shape.quantiles, p), firstOpen: v.record.firstOpen };
}
