/** One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break. */
export const csvCell = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
