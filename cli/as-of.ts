import { parseMapping } from '../data/mapping';
import { parseTimestamp } from '../data/timestamp';
import { UsageError } from './args';

/**
 * `--as-of` text as epoch ms: ISO 8601 or `YYYY-MM-DD HH:MM:SS`, read in the mapping's zone when
 * it has no offset (as the file's own timestamps are).
 */
export function parseAsOf(text: string | undefined, mapping?: unknown): number | undefined {
  if (text === undefined) return undefined;
  const zone = mapping === undefined ? 'UTC' : parseMapping(mapping).timezone;
  const t = parseTimestamp(text, zone);
  if (t === null) throw new UsageError(`--as-of ${JSON.stringify(text)} is not an ISO 8601 or YYYY-MM-DD HH:MM:SS timestamp`);
  return t;
}
