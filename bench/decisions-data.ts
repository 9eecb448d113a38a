/**
 * Generated users as features, in process, for the decision benchmarks: the same generator,
 * CSV reader, feature spec and stable split the pipeline uses, without servers in between.
 */
import { Readable } from 'node:stream';
import { generateUsers, GENERATED_COLUMNS, type GenerateOptions } from '../data/generator';
import { readUserLogs } from '../data/csv-reader';
import { fitFeatureSpec, transformBatch, type FeatureSpec } from '../data/features';
import { splitHoldout } from '../data/split';
import type { UserRecord } from '../data/record';
import type { Matrix } from '../ml/matrix';

/** Matured users of a generated export (an export without a cut-off: every window closed). */
export async function generatedUsers(opts: Partial<GenerateOptions> & { users: number }): Promise<UserRecord[]> {
  const rows = [`${GENERATED_COLUMNS.join(',')}\n`];
  for (const r of generateUsers(opts)) rows.push(r.row, '\n');
  const out: UserRecord[] = [];
  for await (const row of readUserLogs(Readable.from([rows.join('')]), { fileName: 'generated.csv' })) {
    if (row.kind === 'ok' && row.record.label !== null) out.push(row.record);
  }
  return out;
}

export interface Featurised {
  spec: FeatureSpec;
  X: Matrix;
  y: Uint8Array;
  ids: string[];
}

/** Fits the spec on `fitOn` and builds the matrix of `users` with it. */
export function featurise(users: readonly UserRecord[], fitOn: readonly UserRecord[], spec?: FeatureSpec): Featurised {
  const s = spec ?? fitFeatureSpec(fitOn);
  return { spec: s, X: { data: transformBatch(s, users), rows: users.length, cols: s.names.length }, y: Uint8Array.from(users, (u) => u.label ?? 0), ids: users.map((u) => u.userId) };
}

/** The pipeline's stable hash split (data/split.ts) of these users. */
export function hashSplit(users: readonly UserRecord[], fraction = 0.2, seed = 42): { train: UserRecord[]; holdout: UserRecord[] } {
  const { train, holdout } = splitHoldout({ ids: users.map((u) => u.userId), firstOpen: Float64Array.from(users, (u) => u.firstOpen), strategy: 'hash', holdoutFraction: fraction, seed });
  return { train: Array.from(train, (i) => users[i]!), holdout: Array.from(holdout, (i) => users[i]!) };
}
