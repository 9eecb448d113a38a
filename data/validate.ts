/**
 * Row validation shared by CSV rows (string values) and the API's JSON input (strings, numbers,
 * arrays, null). Field keys are canonical names (DATA.md) plus declared pass-through column names.
 */
import { REJECT_REASONS, type RejectReason } from './errors';
import type { Mapping } from './mapping';
import { AGE_RANGE, MAX_USER_ID_LENGTH, purchasedWithin24h, type UserRecord } from './record';
import { parseTimestamp } from './timestamp';

export interface FieldError {
  field: string;
  rule: RejectReason;
  value: unknown;
  /** One line, for people: what was expected. */
  message: string;
}

export type ValidationResult = { ok: true; record: UserRecord } | { ok: false; errors: FieldError[] };

const isBlank = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
const INTEGER = /^[+-]?\d+(?:\.0*)?$/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function toNumber(v: unknown, integer: boolean): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && (!integer || Number.isInteger(v)) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (!(integer ? INTEGER : NUMBER).test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function toTimestamp(v: unknown, mapping?: Mapping): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null; // JSON callers may send epoch ms
  if (typeof v !== 'string') return null;
  return parseTimestamp(v, mapping?.timezone ?? 'UTC', mapping?.timestampFormat ?? 'auto');
}

function toUserId(v: unknown): string | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? String(v) : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  return s.length > 0 && s.length <= MAX_USER_ID_LENGTH ? s : null;
}

function toScreens(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  const parts = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : null;
  if (parts === null) return null;
  const screens: string[] = [];
  for (const p of parts) {
    if (typeof p !== 'string') return null;
    const s = p.trim();
    if (s !== '') screens.push(s);
  }
  return screens;
}

// module-level, not a closure in validateRawUser: tsx (esbuild keepNames) would re-name a local
// function with defineProperty on every call of this hot function
function addError(errors: FieldError[], field: string, rule: RejectReason, value: unknown, message: string): void {
  errors.push({ field, rule, value, message });
}

/**
 * Validates one raw user. Rules: `user_id` non-empty (see record.ts for the id rule); `first_open`
 * a timestamp (ISO 8601 / SQL style, mapping zone) or epoch ms; `screen_list` present (may be
 * empty); `age` empty or an integer in 0–120; `numscreens` empty or a non-negative integer;
 * `purchase_date` empty or a timestamp not before `first_open`; declared pass-through values
 * present, 0/1 for binary, finite for numeric. A missing `purchase_date` key gives `label: null`.
 * All failing fields are returned, first-detected first.
 */
export function validateRawUser(fields: Record<string, unknown>, mapping?: Mapping): ValidationResult {
  const errors: FieldError[] = [];

  const rawId = fields.user_id;
  const userId = toUserId(rawId);
  if (userId === null) {
    if (isBlank(rawId)) addError(errors, 'user_id', REJECT_REASONS.missingValue, rawId, 'user_id is empty');
    else addError(errors, 'user_id', REJECT_REASONS.badUserId, rawId,
      `user_id must be a non-empty string of at most ${MAX_USER_ID_LENGTH} chars or a non-negative integer`);
  }

  const rawOpen = fields.first_open;
  const firstOpen = isBlank(rawOpen) ? null : toTimestamp(rawOpen, mapping);
  if (isBlank(rawOpen)) addError(errors, 'first_open', REJECT_REASONS.missingValue, rawOpen, 'first_open is empty');
  else if (firstOpen === null) addError(errors, 'first_open', REJECT_REASONS.badTimestamp, rawOpen, 'not an ISO 8601 or YYYY-MM-DD HH:MM:SS timestamp');

  const rawScreens = fields.screen_list;
  const screens = toScreens(rawScreens);
  if (rawScreens === undefined) addError(errors, 'screen_list', REJECT_REASONS.missingValue, rawScreens, 'screen_list is missing');
  else if (screens === null) addError(errors, 'screen_list', REJECT_REASONS.badScreenList, rawScreens, 'screen_list must be a string or an array of strings');

  let age: number | null = null;
  if (!isBlank(fields.age)) {
    age = toNumber(fields.age, true);
    if (age === null) addError(errors, 'age', REJECT_REASONS.badNumber, fields.age, 'age must be an integer');
    else if (age < AGE_RANGE.min || age > AGE_RANGE.max) addError(errors, 'age', REJECT_REASONS.ageOutOfRange, fields.age, 'age must be within 0-120');
  }

  let numscreens = screens?.length ?? 0;
  if (!isBlank(fields.numscreens)) {
    const n = toNumber(fields.numscreens, true);
    if (n === null) addError(errors, 'numscreens', REJECT_REASONS.badNumber, fields.numscreens, 'numscreens must be an integer');
    else if (n < 0) addError(errors, 'numscreens', REJECT_REASONS.negativeCount, fields.numscreens, 'numscreens must not be negative');
    else numscreens = n;
  }

  const hasPurchaseColumn = fields.purchase_date !== undefined;
  let purchaseDate: number | null = null;
  if (!isBlank(fields.purchase_date)) {
    purchaseDate = toTimestamp(fields.purchase_date, mapping);
    if (purchaseDate === null) addError(errors, 'purchase_date', REJECT_REASONS.badTimestamp, fields.purchase_date, 'not an ISO 8601 or YYYY-MM-DD HH:MM:SS timestamp');
    else if (firstOpen !== null && purchaseDate < firstOpen) {
      addError(errors, 'purchase_date', REJECT_REASONS.purchaseBeforeOpen, fields.purchase_date, 'purchase_date is before first_open');
    }
  }

  const extra: Record<string, number> = {};
  for (const [name, kind] of Object.entries(mapping?.features ?? {})) {
    const raw = fields[name];
    if (isBlank(raw)) { addError(errors, name, REJECT_REASONS.missingValue, raw, `${name} is empty`); continue; }
    const n = toNumber(raw, kind === 'binary');
    if (n === null || (kind === 'binary' && n !== 0 && n !== 1)) {
      addError(errors, name, REJECT_REASONS.badNumber, raw, kind === 'binary' ? `${name} must be 0 or 1` : `${name} must be a finite number`);
    } else extra[name] = n;
  }

  if (errors.length > 0) return { ok: false, errors };
  const fo = firstOpen as number;
  return {
    ok: true,
    record: {
      userId: userId as string, firstOpen: fo, screens: screens as string[], age, numscreens, purchaseDate,
      label: hasPurchaseColumn ? purchasedWithin24h(fo, purchaseDate) : null, extra,
    },
  };
}
