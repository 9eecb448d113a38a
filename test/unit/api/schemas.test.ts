import { describe, expect, it } from 'vitest';
import { rawUserSchema } from '../../../api/schemas';
import { openApiDocument } from '../../../api/openapi';
import { validateRawUser } from '../../../data/validate';
import { loadConfig } from '../../../config';

/**
 * The raw-user schema documents what data/validate.ts accepts (the validator also reads CSV
 * strings, so it is the one that runs). On every boundary of the documented rules the two must
 * agree; the naive hand-written schema this replaced said age "integer 0–120" but allowed ids of
 * any length and blank ids.
 */
const base = { user_id: 'u1', first_open: '2026-03-01 20:15:00', screen_list: 'home,cart' };
const cases: [string, Record<string, unknown>][] = [
  ['valid', base],
  ['id of 128 chars', { ...base, user_id: 'x'.repeat(128) }],
  ['id of 129 chars', { ...base, user_id: 'x'.repeat(129) }],
  ['empty id', { ...base, user_id: '' }],
  ['blank id', { ...base, user_id: '   ' }],
  ['numeric id', { ...base, user_id: 42 }],
  ['negative id', { ...base, user_id: -1 }],
  ['fractional id', { ...base, user_id: 1.5 }],
  ['age 0', { ...base, age: 0 }],
  ['age 120', { ...base, age: 120 }],
  ['age 121', { ...base, age: 121 }],
  ['age -1', { ...base, age: -1 }],
  ['age 30.5', { ...base, age: 30.5 }],
  ['age null', { ...base, age: null }],
  ['numscreens 0', { ...base, numscreens: 0 }],
  ['numscreens -1', { ...base, numscreens: -1 }],
  ['screens as array', { ...base, screen_list: ['home', 'cart'] }],
  ['screens as number', { ...base, screen_list: 5 }],
  ['screens missing', { user_id: 'u1', first_open: base.first_open }],
  ['first_open epoch ms', { ...base, first_open: 1_772_400_000_000 }],
  ['first_open missing', { user_id: 'u1', screen_list: 'home' }],
  ['first_open empty', { ...base, first_open: '' }],
  ['purchase_date null', { ...base, purchase_date: null }],
];

describe('the raw-user schema and data/validate.ts', () => {
  it.each(cases)('when the user is %s, then the schema and the validator agree', (_what, user) => {
    const bySchema = rawUserSchema.safeParse(user).success;
    const byValidator = validateRawUser(user).ok;
    expect(bySchema).toBe(byValidator);
  });
});

describe('the generated OpenAPI document', () => {
  const doc = openApiDocument(loadConfig({ PREDICT_MAX_BATCH: '77' })) as {
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>;
    components: { schemas: Record<string, unknown> };
  };

  it('when a JSON response is documented, then its schema names its fields (no bare {type: object})', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, resp] of Object.entries(op.responses)) {
          const schema = resp.content?.['application/json']?.schema;
          if (!schema) continue;
          const bare = schema.type === 'object' && !schema.properties && !schema.additionalProperties;
          expect(bare, `${method} ${path} ${status}`).toBe(false);
        }
      }
    }
  });

  it('when the config sets a limit, then the document carries it', () => {
    expect(JSON.stringify(doc.paths['/v1/predict'])).toContain('"maxItems":77');
  });
});
