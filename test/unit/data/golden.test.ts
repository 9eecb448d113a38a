import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertSpec, transformBatch } from '../../../data/features';
import type { UserRecord } from '../../../data/record';
import { deserializeModel } from '../../../ml/serialize';

/**
 * Every released feature-transform version stays loadable and scores bit-identically: the model
 * and users committed in test/fixtures/golden/ (written once by make-golden.ts with the release's
 * code) are loaded with today's code and must give exactly the probabilities recorded then. A
 * model in production must not stop loading, or change its scores, because the code moved on.
 */
const DIR = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));

describe.each([1])('golden model of feature transform version %i', (version) => {
  const envelope = readFileSync(`${DIR}transform-v${version}.model`);
  const golden = JSON.parse(readFileSync(`${DIR}transform-v${version}.json`, 'utf8')) as { users: UserRecord[]; probabilities: number[] };

  it('loads, and its spec names the version it was written with', () => {
    const { featureSpec } = deserializeModel(envelope);
    const spec = assertSpec(featureSpec);
    expect(spec.version).toBe(version);
    expect(spec.names).toContain('liked');
  });

  it('scores the recorded users exactly as at release (every bit of every probability)', () => {
    const { model, featureSpec } = deserializeModel(envelope);
    const spec = assertSpec(featureSpec);
    const p = model.predictProba({ data: transformBatch(spec, golden.users), rows: golden.users.length, cols: spec.names.length });
    expect(p.length).toBe(golden.probabilities.length);
    const differing = Array.from(p).flatMap((v, i) => (Object.is(v, golden.probabilities[i]) ? [] : [{ i, now: v, then: golden.probabilities[i] }]));
    expect(differing).toEqual([]);
    // not a degenerate fixture: the scores spread
    expect(new Set(golden.probabilities).size).toBeGreaterThan(5);
  });
});
