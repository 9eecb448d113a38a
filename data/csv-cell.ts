/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break.
 *
 * Cells we write are opened by marketing in spreadsheets, and a user id or error text we echo
 * comes from uploaded data. A cell starting with `=`, `+`, `-`, `@`, tab or carriage return is a
 * formula there (CSV injection, OWASP), so such a cell gets a leading `'`, which spreadsheets show
 * as text. Plain numbers (`-3`, `0.25`) are left alone: they are no formula. JSON-lines exports
 * carry values unchanged.
 */
export const csvCell = (s: string): string => {
  const v = /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};
