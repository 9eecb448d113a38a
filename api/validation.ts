import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { HttpError } from './errors';

/** One failing field of a request body: path (`[3].user_id`), rule, message. */
export interface FieldProblem {
  field: string;
  rule: string;
  message: string;
}

function pathOf(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || 'body';
}

/** zod issues as field problems; unknown keys are reported one per key so the field is named. */
export function zodProblems(error: z.ZodError): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ field: pathOf([...issue.path, k]), rule: 'unknown-field', message: 'unknown field' });
    } else {
      out.push({ field: pathOf(issue.path), rule: issue.code === 'custom' ? 'format' : issue.code, message: issue.message });
    }
  }
  return out;
}

/** Parses `value` with `schema` or throws a 400 naming the first failing field and rule. */
export function parseBody<T extends z.ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  if (value === undefined) throw new HttpError(400, 'invalid-body', 'send a JSON body with Content-Type: application/json');
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const problems = zodProblems(res.error);
  const first = problems[0]!;
  throw new HttpError(400, first.rule === 'unknown-field' ? 'unknown-field' : 'invalid-field', `${first.field}: ${first.message} (${first.rule})`, problems);
}

/** 415 unless the request says its body is JSON (before the body is read). */
export const requireJson: RequestHandler = (req, _res, next) => {
  const h = req.headers;
  // the header every JSON client sends, checked without parsing; same answer as req.is (type-is:
  // a body is announced by transfer-encoding or a numeric content-length)
  if (h['content-type'] === 'application/json' && (h['transfer-encoding'] !== undefined || !Number.isNaN(Number(h['content-length'])))) {
    next();
    return;
  }
  if (!req.is('application/json')) {
    throw new HttpError(415, 'unsupported-media-type', `Content-Type must be application/json (got ${JSON.stringify(req.get('content-type') ?? null)})`);
  }
  next();
};
