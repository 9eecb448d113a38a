/**
 * Audience rules: how marketing asks for a slice of the scored population (top share, top count,
 * a recall target, a precision floor), and the saved audience that names one. Schemas and types
 * only, importable anywhere (API, CLI, workflows); the selection itself lives in ml/audience.ts.
 */
import { z } from 'zod';

export const AUDIENCE_RULE_KINDS = ['top_percent', 'top_n', 'target_recall', 'min_precision'] as const;
export type AudienceRuleKind = (typeof AUDIENCE_RULE_KINDS)[number];

/** Saved audience names: lower-case, URL- and file-safe, 1 to 63 characters. */
export const AUDIENCE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const AUDIENCE_DESCRIPTION_MAX = 500;

/** A value as it reads in a message: numbers as JS prints them (NaN stays NaN), the rest as JSON. */
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : v === undefined ? 'nothing' : JSON.stringify(v);
}

interface Bounds {
  gt?: number;
  max?: number;
  lt?: number;
  int?: boolean;
}

/**
 * A numeric field whose every failure message starts with the field's name, so an API 400 or a
 * CLI error says which field is wrong and what was sent. The bounds are zod checks (not a
 * refinement), so the OpenAPI document generated from this schema carries them too.
 */
function numberField(field: string, requirement: string, b: Bounds) {
  let n = z.number({
    errorMap: (issue, ctx) => ({
      message: ctx.data === undefined ? `${field} is required`
        : issue.code === 'invalid_type' && typeof ctx.data !== 'number' ? `${field} must be a number, got ${show(ctx.data)}`
        : `${field} must be ${requirement}, got ${show(ctx.data)}`,
    }),
  });
  if (b.int) n = n.int().max(Number.MAX_SAFE_INTEGER);
  if (b.gt !== undefined) n = n.gt(b.gt);
  if (b.max !== undefined) n = n.max(b.max);
  if (b.lt !== undefined) n = n.lt(b.lt);
  return n;
}

const topPercent = z
  .object({ kind: z.literal('top_percent'), percent: numberField('percent', 'in (0, 100]', { gt: 0, max: 100 }) })
  .strict();
const topN = z
  .object({ kind: z.literal('top_n'), n: numberField('n', 'an integer ≥ 1', { int: true, gt: 0 }) })
  .strict();
// recall 1 and precision 0 are excluded on purpose: "recall 1" means the whole population whenever
// any user has p > 0, and "precision ≥ 0" is met by everyone; neither is a targeting decision.
const targetRecall = z
  .object({ kind: z.literal('target_recall'), recall: numberField('recall', 'in (0, 1)', { gt: 0, lt: 1 }) })
  .strict();
const minPrecision = z
  .object({ kind: z.literal('min_precision'), precision: numberField('precision', 'in (0, 1)', { gt: 0, lt: 1 }) })
  .strict();

/** One audience rule, discriminated by `kind`; unknown keys are rejected (a typo is not a default). */
export const audienceRuleSchema = z.discriminatedUnion('kind', [topPercent, topN, targetRecall, minPrecision], {
  errorMap: (issue, ctx) => {
    if (issue.code !== 'invalid_union_discriminator') return { message: ctx.defaultError };
    const data: unknown = ctx.data;
    const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
    return { message: `kind must be one of ${AUDIENCE_RULE_KINDS.join(', ')}, got ${show(kind)}` };
  },
});
export type AudienceRule = z.infer<typeof audienceRuleSchema>;

/** A named, saved audience definition. */
export const savedAudienceSchema = z
  .object({
    name: z
      .string({ errorMap: (_issue, ctx) => ({ message: ctx.data === undefined ? 'name is required' : `name must be a string, got ${show(ctx.data)}` }) })
      .refine((s) => AUDIENCE_NAME_PATTERN.test(s), (s) => ({
        message: `name must be 1-63 characters of a-z, 0-9, _ or -, starting with a letter or digit, got ${show(s)}`,
      })),
    rule: audienceRuleSchema,
    description: z
      .string({ errorMap: (_issue, ctx) => ({ message: `description must be a string, got ${show(ctx.data)}` }) })
      .refine((s) => s.length <= AUDIENCE_DESCRIPTION_MAX, (s) => ({
        message: `description must be at most ${AUDIENCE_DESCRIPTION_MAX} characters, got ${s.length}`,
      }))
      .optional(),
  })
  .strict();
export type SavedAudience = z.infer<typeof savedAudienceSchema>;

/** A number with at least two and at most four decimals: 0.9 -> "0.90", 0.955 -> "0.955". */
function ratio(v: number): string {
  return v.toFixed(4).replace(/(\.\d{2}\d*?)0+$/, '$1');
}

/** The rule as a marketer reads it: "top 10 %", "top 500 users", "recall ≥ 0.90", "precision ≥ 0.40". */
export function formatRule(rule: AudienceRule): string {
  switch (rule.kind) {
    case 'top_percent':
      // 4 significant digits: 33.3333 reads "33.33", 0.001 stays "0.001"
      return `top ${Number(rule.percent.toPrecision(4))} %`;
    case 'top_n':
      return `top ${rule.n} ${rule.n === 1 ? 'user' : 'users'}`;
    case 'target_recall':
      return `recall ≥ ${ratio(rule.recall)}`;
    case 'min_precision':
      return `precision ≥ ${ratio(rule.precision)}`;
  }
}
