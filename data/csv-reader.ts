/**
 * Streaming reader of raw user logs (DATA.md). Memory stays constant apart from a Map of seen
 * user ids (for duplicate detection) and one CSV record at a time.
 *
 * Line numbers are 1-based physical lines (header = line 1); a row whose quoted field spans
 * several lines gets the number of its first line. Blank lines are skipped but counted.
 * `raw` is the row's text without its line ending.
 *
 * Whole-file checks (IngestFileError) run before the first row is yielded: empty input, NUL bytes
 * (binary, `not-csv`) and invalid UTF-8 in the first 64 KiB, an unreadable header, duplicate or
 * missing columns. Two faults can only show later and are thrown where they are met (after rows
 * were yielded, the error's `line` says where): invalid UTF-8 after the first 64 KiB, and CSV
 * syntax that cannot be resynchronised (a quote never closed, a record over 1 MB).
 */
import { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { IngestFileError, REJECT_REASONS, type RejectReason } from './errors';
import { type Mapping, sourceColumn } from './mapping';
import { CANONICAL_COLUMNS, REQUIRED_COLUMNS, type CanonicalColumn, type UserRecord } from './record';
import { validateRawUser } from './validate';

export type ParsedRow =
  | { kind: 'ok'; line: number; record: UserRecord; duplicateOfLine?: number }
  | { kind: 'reject'; line: number; raw: string; reason: RejectReason; detail: string };

export interface ReadUserLogsOptions {
  /** Used in error messages and nothing else. */
  fileName: string;
  mapping?: Mapping;
  /** Rows before this line are parsed (for duplicate tracking) but not yielded. @default 1 */
  startLine?: number;
  /**
   * Track user ids to report `duplicateOfLine`. The tracking Map holds every valid id of the file
   * (~100 MB of heap for a million ids); a caller that already knows the duplicates (ingest's
   * write pass) turns it off. @default true
   */
  trackDuplicates?: boolean;
  /**
   * The file's observation time (epoch ms), when the caller gave one: a row with a first_open or
   * purchase_date after it contradicts the export time and is rejected (`after-as-of`).
   */
  asOf?: number;
}

const SNIFF_BYTES = 64 * 1024;
const MAX_RECORD_CHARS = 1_000_000;

async function* decodeUtf8(input: NodeJS.ReadableStream, file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let head: Buffer[] | null = [];
  let headBytes = 0;
  let seen = 0;
  const decode = (buf: Buffer, last: boolean): string => {
    try {
      return decoder.decode(buf, { stream: !last });
    } catch {
      throw new IngestFileError('not-utf8', file, `bytes are not valid UTF-8 (within bytes ${seen}-${seen + buf.length})`);
    }
  };
  const sniff = (buf: Buffer): void => {
    if (buf.length === 0) throw new IngestFileError('empty-file', file, 'file is empty');
    const nul = buf.indexOf(0);
    if (nul >= 0) throw new IngestFileError('not-csv', file, `binary content, not CSV (NUL byte at offset ${nul})`);
  };
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    if (head) {
      head.push(buf);
      headBytes += buf.length;
      if (headBytes < SNIFF_BYTES) continue;
      const all = Buffer.concat(head);
      head = null;
      sniff(all);
      yield decode(all, false);
      seen += all.length;
      continue;
    }
    const text = decode(buf, false);
    seen += buf.length;
    if (text) yield text;
  }
  const rest = head ? Buffer.concat(head) : Buffer.alloc(0);
  if (head) sniff(rest);
  const text = decode(rest, true);
  if (text) yield text;
}

/** Counts line breaks: `\n`, or a `\r` not followed by `\n` (csv-parse drops the `\n` of CRLF from raw). */
function countBreaks(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || (c === 13 && s.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}

interface Layout {
  canonicalIndex: Partial<Record<CanonicalColumn, number>>;
  extraIndex: [string, number][];
  width: number;
}

function resolveHeader(header: string[], file: string, mapping?: Mapping): Layout {
  const names = header.map((h) => h.trim());
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (index.has(n)) throw new IngestFileError('duplicate-column', file, `column "${n}" appears twice in the header`, n);
    index.set(n, i);
  });
  const found = names.length > 12 ? `${names.slice(0, 12).join(',')},…` : names.join(',');
  const canonicalIndex: Layout['canonicalIndex'] = {};
  for (const c of CANONICAL_COLUMNS) {
    const src = sourceColumn(c, mapping);
    const i = index.get(src);
    if (i !== undefined) canonicalIndex[c] = i;
    else if (mapping?.columns[c] !== undefined) {
      throw new IngestFileError('mapping-column-missing', file,
        `mapping names column "${src}" for ${c} but the header lacks it (found: ${found})`, src);
    } else if (REQUIRED_COLUMNS.includes(c)) {
      throw new IngestFileError('missing-column', file, `required column "${c}" is missing from the header (found: ${found})`, c);
    }
  }
  const extraIndex: [string, number][] = [];
  for (const name of Object.keys(mapping?.features ?? {})) {
    const i = index.get(name);
    if (i === undefined) {
      throw new IngestFileError('mapping-column-missing', file,
        `mapping declares feature column "${name}" but the header lacks it (found: ${found})`, name);
    }
    extraIndex.push([name, i]);
  }
  return { canonicalIndex, extraIndex, width: names.length };
}

/** The field of a record that lies after the observation time, or null. */
function afterAsOf(r: UserRecord, asOf: number): { field: 'first_open' | 'purchase_date'; message: string } | null {
  const iso = new Date(asOf).toISOString();
  if (r.firstOpen > asOf) return { field: 'first_open', message: `${new Date(r.firstOpen).toISOString()} is after the file's as-of time ${iso}` };
  if (r.purchaseDate !== null && r.purchaseDate > asOf) return { field: 'purchase_date', message: `${new Date(r.purchaseDate).toISOString()} is after the file's as-of time ${iso}` };
  return null;
}

/**
 * Streams the rows of a raw-log CSV as validated records or rejects (DATA.md "What bad input
 * gets"). A later row with an already-seen user id is yielded as ok with `duplicateOfLine`
 * (later wins; the earlier row is superseded). Rejected rows never enter duplicate tracking.
 * @throws IngestFileError for whole-file faults (see the module comment for when).
 */
export async function* readUserLogs(input: NodeJS.ReadableStream, opts: ReadUserLogsOptions): AsyncGenerator<ParsedRow> {
  const { fileName: file, mapping } = opts;
  const startLine = opts.startLine ?? 1;
  const track = opts.trackDuplicates ?? true;
  if (!Number.isInteger(startLine) || startLine < 1) throw new RangeError(`startLine must be an integer >= 1, got ${startLine}`);
  const parser = parse({
    bom: true, raw: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true,
    max_record_size: MAX_RECORD_CHARS,
  });
  const source = Readable.from(decodeUtf8(input, file));
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);

  let layout: Layout | null = null;
  let nextLine = 1;
  const seen = new Map<string, number>();
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      let lead = 0;
      while (lead < raw.length && (raw.charCodeAt(lead) === 10 || raw.charCodeAt(lead) === 13)) lead++;
      const line = nextLine + countBreaks(raw, 0, lead);
      nextLine += countBreaks(raw);
      if (layout === null) {
        layout = resolveHeader(record, file, mapping);
        continue;
      }
      const text = raw.slice(lead).replace(/\r?\n?$/, '').replace(/\r$/, '');
      if (record.length !== layout.width) {
        if (line >= startLine) {
          yield { kind: 'reject', line, raw: text, reason: REJECT_REASONS.columnCount,
            detail: `expected ${layout.width} columns, got ${record.length}` };
        }
        continue;
      }
      const fields: Record<string, unknown> = {};
      for (const c of CANONICAL_COLUMNS) {
        const i = layout.canonicalIndex[c];
        if (i !== undefined) fields[c] = record[i];
      }
      for (const [name, i] of layout.extraIndex) fields[name] = record[i];
      const res = validateRawUser(fields, mapping);
      if (res.ok && opts.asOf !== undefined) {
        const late = afterAsOf(res.record, opts.asOf);
        if (late) {
          if (line >= startLine) yield { kind: 'reject', line, raw: text, reason: REJECT_REASONS.afterAsOf, detail: `${sourceLabel(late.field, mapping)}: ${late.message}` };
          continue;
        }
      }
      if (!res.ok) {
        const e = res.errors[0];
        if (line >= startLine) {
          yield { kind: 'reject', line, raw: text, reason: e.rule, detail: `${sourceLabel(e.field, mapping)}: ${e.message} (value ${JSON.stringify(e.value)})` };
        }
        continue;
      }
      if (line < startLine) {
        if (track) seen.set(res.record.userId, line);
        continue;
      }
      const prior = track ? seen.get(res.record.userId) : undefined;
      if (track) seen.set(res.record.userId, line);
      yield prior === undefined ? { kind: 'ok', line, record: res.record } : { kind: 'ok', line, record: res.record, duplicateOfLine: prior };
    }
  } catch (e) {
    if (e instanceof CsvError) {
      throw new IngestFileError('not-csv', file, `CSV syntax error near line ${nextLine}: ${e.message.split('\n')[0]}`, undefined, nextLine);
    }
    throw e;
  } finally {
    source.destroy();
  }
  if (layout === null) throw new IngestFileError('empty-file', file, 'file has no header row');
}

function sourceLabel(field: string, mapping?: Mapping): string {
  return (CANONICAL_COLUMNS as readonly string[]).includes(field) ? sourceColumn(field as CanonicalColumn, mapping) : field;
}
