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

/**
 * The label rule of DATA.md once the window has closed: 1 when `0 <= purchaseDate - firstOpen <= 24 h`.
 * Without an observation time this is only the label *if* the window has closed; ingest turns it
 * into a known label or a pending user with {@link labelAsOf}.
 */
export function purchasedWithin24h(firstOpen: number, purchaseDate: number | null): 0 | 1 {
  if (purchaseDate === null) return 0;
  const delta = purchaseDate - firstOpen;
  return delta >= 0 && delta <= LABEL_WINDOW_MS ? 1 : 0;
}

/**
 * Where a user's label stands: `matured` (known 0 or 1), `pending` (no purchase yet and the 24 h
 * window still open at the observation time), `unlabelled` (no observation of purchases at all:
 * files without a `purchase_date` column).
 */
export const LABEL_STATUS = { matured: 'matured', pending: 'pending', unlabelled: 'unlabelled' } as const;
export type LabelStatus = (typeof LABEL_STATUS)[keyof typeof LABEL_STATUS];

/** When the user's 24 h window closes (epoch ms). */
export const maturesAt = (firstOpen: number): number => firstOpen + LABEL_WINDOW_MS;

/**
 * The label as known at observation time `asOf` (epoch ms). A user is matured — and only then
 * trains or evaluates — once its 24 h window has closed (`asOf >= firstOpen + 24 h`: every
 * purchase up to the window's end, inclusive, is visible by then); its label is then 1 for a
 * purchase inside the window, else 0. Before that it is pending, *whether or not a purchase has
 * been seen*: admitting early buyers while their non-buying peers wait would make the newest
 * users look like buyers only (measured in a replay: buyer share 0.269 against a true 0.2 in the
 * first snapshot). The purchase itself is kept and decides the label at maturity. The data's
 * own observation time decides, never the wall clock.
 */
export function labelAsOf(firstOpen: number, purchaseDate: number | null, asOf: number): { label: 0 | 1 | null; status: 'matured' | 'pending' } {
  if (asOf >= maturesAt(firstOpen)) return { label: purchasedWithin24h(firstOpen, purchaseDate), status: LABEL_STATUS.matured };
  return { label: null, status: LABEL_STATUS.pending };
}
