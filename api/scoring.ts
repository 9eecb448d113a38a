import { validateRawUser } from '../data/validate';
import { transform, transformBatch } from '../data/features';
import { PARALLEL_PREDICT_ROWS } from '../ml/forest-pool';
import type { UserRecord } from '../data/record';
import { CANONICAL_COLUMNS } from '../data/record';
import type { Mapping } from '../data/mapping';
import type { LoadedModel } from '../store/model-loader';
import { HttpError } from './errors';
import { percentileOf } from '../ml/percentile';
import { CalibratedModel } from '../ml/calibrated';
import { RandomForest } from '../ml/forest';
import { explainRow, topContributions, type ExplainMethod } from '../ml/explain';

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

/** Features shown per explained score. */
export const EXPLAIN_TOP = 8;

/**
 * Why a score is what it is: the forest's raw P(class 1) = expected_value + Σ contributions
 * (exactly, ml/explain.ts); the calibrated probability is a monotone map of raw_score.
 */
export interface Explanation {
  method: ExplainMethod;
  expected_value: number;
  raw_score: number;
  top: { feature: string; value: number; contribution: number }[];
}

/** The retail24 forest under a loaded model (calibration wrapper removed), or a 400 for engines that cannot be explained. */
function forestOf(m: LoadedModel): RandomForest {
  const raw = m.model instanceof CalibratedModel ? m.model.raw : m.model;
  if (!(raw instanceof RandomForest)) throw new HttpError(400, 'explain-unsupported', `explain=true needs a retail24 forest; production v${m.version} is another engine`);
  return raw;
}

export function explainVector(m: LoadedModel, row: Float64Array): Explanation {
  const e = explainRow(forestOf(m), row);
  let raw = e.expectedValue;
  for (let i = 0; i < e.contributions.length; i++) raw += e.contributions[i]!;
  return {
    method: e.method, expected_value: e.expectedValue, raw_score: raw,
    top: topContributions(e.contributions, EXPLAIN_TOP).map((c) => ({ feature: m.spec.names[c.feature]!, value: row[c.feature]!, contribution: c.contribution })),
  };
}

export interface Scored {
  user_id: string;
  /** Calibrated P(purchase within 24 h of first open). */
  probability: number;
  decision: boolean;
  /** Rank among the holdout's calibrated scores, 0–100 (null for models without a stored score distribution). */
  percentile: number | null;
  firstOpen: number;
  explanation?: Explanation;
}

/**
 * Validates one raw user (DATA.md fields; unknown fields refused). `path` prefixes field names in
 * errors (`[3].`). @throws HttpError 400 naming the first bad field and its rule; `details` lists every one.
 */
function validUser(m: LoadedModel, body: unknown, path: string): UserRecord {
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
  return v.record;
}

function scored(m: LoadedModel, user: UserRecord, p: number): Scored {
  return { user_id: user.userId, probability: p, decision: p >= m.threshold, percentile: percentileOf(servingShape(m).quantiles, p), firstOpen: user.firstOpen };
}

/**
 * Validates one raw user, builds its vector with the model's frozen spec and scores it.
 * @throws HttpError 400 naming the first bad field and its rule (see validUser)
 */
export function scoreOne(m: LoadedModel, body: unknown, path: string, explain = false): Scored {
  const user = validUser(m, body, path);
  // The shared buffer is safe: scoring is synchronous, nothing else runs between transform and predict.
  const row = transform(m.spec, user, servingShape(m).buf);
  const out = scored(m, user, m.model.predictProbaRow(row));
  if (explain) out.explanation = explainVector(m, row);
  return out;
}

/**
 * Scores an array of raw users: every user validated first (the first bad one is a 400 naming
 * `[i].field`, as scoreOne), then one matrix through the model's batch path, which gives each user
 * the same probability as predictProbaRow, bit for bit (ml/forest.ts; a test holds the route to it).
 */
export async function scoreMany(m: LoadedModel, bodies: readonly unknown[], explain = false): Promise<Scored[]> {
  if (explain) return bodies.map((u, i) => scoreOne(m, u, `[${i}].`, true));
  const users = bodies.map((u, i) => validUser(m, u, `[${i}].`));
  const cols = m.spec.names.length;
  // a large batch is walked on two cores (ml/forest-pool.ts predictSplit): the same scores; its
  // matrix is made in shared memory, so the thread reads its half where it is, without a copy
  const out = users.length >= PARALLEL_PREDICT_ROWS ? new Float64Array(new SharedArrayBuffer(users.length * cols * 8)) : undefined;
  const X = { data: transformBatch(m.spec, users, out), rows: users.length, cols };
  const p = m.model.predictProbaAsync ? await m.model.predictProbaAsync(X) : m.model.predictProba(X);
  return users.map((u, i) => scored(m, u, p[i]!));
}
