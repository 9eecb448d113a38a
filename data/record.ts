/**
 * The canonical user record: what ingest stores (one document per user) and what features read.
 *
 * `userId` rule: the id is kept exactly as written after trimming surrounding whitespace, so
 * `"00123"` stays `"00123"` and is a different user from `"123"`. JSON numbers are accepted when they
 * are non-negative safe integers and become their decimal string (`123` -> `"123"`). Ids are at most
 * {@link MAX_USER_ID_LENGTH} characters.
 */
export interface UserRecord {
  userId: string;
  /** First app open, epoch ms UTC. */
  firstOpen: number;
  /** `screen_list` split on ',', each name trimmed, empty names dropped, order kept. */
  screens: string[];
  age: number | null;
  /** From the `numscreens` column, or `screens.length` when the column is absent or empty. */
  numscreens: number;
  /** First purchase, epoch ms UTC, or null when there was none. */
  purchaseDate: number | null;
  /**
   * `purchased_24h` (DATA.md): 1 when `0 <= purchaseDate - firstOpen <= 24 h`. Null when the input
   * has no `purchase_date` column/field at all (serving input, unlabelled files).
   */
  label: 0 | 1 | null;
  /** Declared pass-through features only (mapping `features`), by column name. */
  extra: Record<string, number>;
}

/** Canonical column names of the raw logs (DATA.md). */
export const CANONICAL_COLUMNS = ['user_id', 'first_open', 'screen_list', 'age', 'numscreens', 'purchase_date'] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];

/** Columns a file must have (`screen_list` must exist but its value may be empty). */
export const REQUIRED_COLUMNS: readonly CanonicalColumn[] = ['user_id', 'first_open', 'screen_list'];

export const MAX_USER_ID_LENGTH = 128;
export const LABEL_WINDOW_MS = 24 * 60 * 60 * 1000;
export const AGE_RANGE = { min: 0, max: 120 } as const;

/** The label rule of DATA.md, in one place. */
export function purchasedWithin24h(firstOpen: number, purchaseDate: number | null): 0 | 1 {
  if (purchaseDate === null) return 0;
  const delta = purchaseDate - firstOpen;
  return delta >= 0 && delta <= LABEL_WINDOW_MS ? 1 : 0;
}
