/**
 * Column mapping (DATA.md): lets a file with differently named columns be ingested, declares
 * pass-through features, and says which zone wall-clock timestamps are in.
 */
import { z } from 'zod';
import { MappingError } from './errors';
import { CANONICAL_COLUMNS, type CanonicalColumn } from './record';
import { isValidTimeZone, type TimestampFormat } from './timestamp';
import { BUILT_IN_FEATURE_NAMES } from './transforms';

export type PassThroughKind = 'binary' | 'numeric';

export interface Mapping {
  /** Canonical column -> column name in the file; unlisted canonical columns keep their name. */
  columns: Partial<Record<CanonicalColumn, string>>;
  /** Pass-through feature columns by file column name. */
  features: Record<string, PassThroughKind>;
  /** IANA zone of timestamps without an explicit offset. @default 'UTC' */
  timezone: string;
  /** @default 'auto' */
  timestampFormat?: TimestampFormat;
}

/** Names the feature spec builds itself; a pass-through column may not take one of them. */
export const RESERVED_FEATURE_NAMES: readonly string[] = BUILT_IN_FEATURE_NAMES;

const columnName = z.string().trim().min(1, 'column name must be a non-empty string');

export const mappingSchema = z
  .object({
    columns: z.record(z.enum(CANONICAL_COLUMNS), columnName).default({}),
    features: z.record(z.string().trim().min(1), z.enum(['binary', 'numeric'])).default({}),
    timezone: z.string().default('UTC').refine(isValidTimeZone, 'not an IANA time zone Intl knows'),
    timestampFormat: z.enum(['iso', 'sql', 'auto']).default('auto'),
  })
  .strict();

function valueAt(json: unknown, path: (string | number)[]): unknown {
  let v = json;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

/**
 * Validates a mapping (already JSON-parsed) and applies defaults.
 * @throws MappingError naming the bad key and value, e.g.
 *   `mapping columns.usr_id: unknown canonical column (value "user")`.
 */
export function parseMapping(json: unknown): Mapping {
  const res = mappingSchema.safeParse(json ?? {});
  if (!res.success) {
    const issue = res.error.issues[0];
    let path = issue.path.map(String);
    let value: unknown = valueAt(json, issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      path = [...path, issue.keys[0]];
      value = valueAt(json, [...issue.path, issue.keys[0]]);
      message = 'unknown key (allowed: columns, features, timezone, timestampFormat)';
    } else if (issue.code === 'invalid_enum_value' && path[0] === 'columns') {
      message = `unknown canonical column (allowed: ${CANONICAL_COLUMNS.join(', ')})`;
    }
    throw new MappingError(path.join('.') || '(root)', value, `${message} (value ${JSON.stringify(value)})`);
  }
  const m = res.data;
  const columns: Partial<Record<CanonicalColumn, string>> = {};
  const fileToCanonical = new Map<string, string>();
  for (const c of CANONICAL_COLUMNS) {
    const name = m.columns[c];
    if (name === undefined) continue;
    const prior = fileToCanonical.get(name);
    if (prior) throw new MappingError(`columns.${c}`, name, `file column "${name}" is already mapped to ${prior}`);
    fileToCanonical.set(name, c);
    columns[c] = name;
  }
  // Canonical names that keep their own name are taken too.
  for (const c of CANONICAL_COLUMNS) if (columns[c] === undefined && !fileToCanonical.has(c)) fileToCanonical.set(c, c);
  for (const name of Object.keys(m.features)) {
    const usedAs = fileToCanonical.get(name);
    if (usedAs) {
      throw new MappingError(`features.${name}`, m.features[name],
        `column "${name}" is the ${usedAs} column; label, timestamp and id columns are never features`);
    }
    if (RESERVED_FEATURE_NAMES.includes(name) || name.startsWith('screen:') || name.endsWith('_count')) {
      throw new MappingError(`features.${name}`, m.features[name], `"${name}" collides with a built-in feature name`);
    }
  }
  return { columns, features: { ...m.features }, timezone: m.timezone, timestampFormat: m.timestampFormat };
}

/** The file column name holding canonical column `c` under `mapping`. */
export function sourceColumn(c: CanonicalColumn, mapping?: Mapping): string {
  return mapping?.columns[c] ?? c;
}
