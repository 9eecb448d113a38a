/**
 * Inline SVG charts for the status pages, rendered on the server (no front-end build). Every
 * text that can come from data goes through `esc`, so templates can emit the SVG with `<%-`.
 */

export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const f = (n: number) => (Math.round(n * 10) / 10).toString();

export interface LineSeries {
  name: string;
  x: number[];
  y: number[];
  color: string;
  /** draw a dot at every point (few points: reliability bins, deciles). @default false */
  dots?: boolean;
}

/**
 * A vertical cut line at `x` (data units; null: hidden). With `key`, the group carries
 * `data-at` (the key) and `data-span` (pixels per data unit), so a page script can move it.
 */
export interface Marker {
  x: number | null;
  label: string;
  key?: string;
  color?: string;
}

function markerSvg(m: Marker, x0: number, span: number, yTop: number, yBottom: number): string {
  const color = m.color ?? '#b42318';
  const dx = m.x === null ? 0 : m.x * span;
  // labels right of the line until it passes the plot's middle, then left of it (kept inside)
  const left = m.x !== null && dx > span * 0.6;
  return `<g class="marker"${m.key ? ` data-at="${esc(m.key)}"` : ''} data-span="${f(span)}" transform="translate(${f(dx)} 0)"${m.x === null ? ' visibility="hidden"' : ''}>`
    + `<line x1="${x0}" y1="${yTop}" x2="${x0}" y2="${yBottom}" stroke="${color}" stroke-width="1.5" stroke-dasharray="5 3"/>`
    + `<text x="${left ? x0 - 4 : x0 + 4}" y="${yTop + 12}" text-anchor="${left ? 'end' : 'start'}" font-size="11" fill="${color}">${esc(m.label)}</text></g>`;
}

/** Tick label: 3 significant digits, no trailing zeros (0.25, 0.5, 1). */
const tick = (v: number) => String(Number(v.toPrecision(3)));

/**
 * A square line chart (ROC, PR, gains, reliability): both axes 0–`max` with grid lines at quarter steps.
 * @param opts.diagonal draw the chance line y = x (ROC). @default false
 * @param opts.max end of both axes (zoom on a reliability diagram of small probabilities). @default 1
 * @param opts.marker a vertical cut line (the chosen audience share).
 */
export function lineChart(series: LineSeries[], opts: { title: string; xLabel: string; yLabel: string; diagonal?: boolean; max?: number; marker?: Marker; width?: number; height?: number }): string {
  const W = opts.width ?? 340, H = opts.height ?? 300, L = 46, R = 12, T = 26, B = 40;
  const max = opts.max ?? 1;
  const px = (x: number) => L + (x / max) * (W - L - R), py = (y: number) => H - B - (y / max) * (H - T - B);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(opts.title)}</text>`];
  for (const q of [0, 0.25, 0.5, 0.75, 1]) {
    const t = q * max;
    parts.push(`<line x1="${f(px(t))}" y1="${f(py(0))}" x2="${f(px(t))}" y2="${f(py(max))}" stroke="#eceff3"/>`,
      `<line x1="${f(px(0))}" y1="${f(py(t))}" x2="${f(px(max))}" y2="${f(py(t))}" stroke="#eceff3"/>`,
      `<text x="${f(px(t))}" y="${H - B + 14}" text-anchor="middle" font-size="10" fill="#6b7385">${tick(t)}</text>`,
      `<text x="${L - 6}" y="${f(py(t) + 3)}" text-anchor="end" font-size="10" fill="#6b7385">${tick(t)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#9aa3b2"/>`);
  if (opts.diagonal) parts.push(`<line x1="${px(0)}" y1="${py(0)}" x2="${px(max)}" y2="${py(max)}" stroke="#9aa3b2" stroke-dasharray="4 3"/>`);
  series.forEach((s, k) => {
    const n = Math.min(s.x.length, s.y.length);
    const step = Math.max(1, Math.floor(n / 400)); // a few hundred points draw the same curve
    const pts: string[] = [];
    for (let i = 0; i < n; i += step) pts.push(`${f(px(s.x[i]!))},${f(py(s.y[i]!))}`);
    if (n > 0 && (n - 1) % step !== 0) pts.push(`${f(px(s.x[n - 1]!))},${f(py(s.y[n - 1]!))}`);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`,
      `<text x="${W - R - 4}" y="${H - B - 8 - k * 14}" text-anchor="end" font-size="11" fill="${s.color}">${esc(s.name)}</text>`);
    if (s.dots) for (let i = 0; i < n; i++) parts.push(`<circle cx="${f(px(s.x[i]!))}" cy="${f(py(s.y[i]!))}" r="3" fill="${s.color}"><title>${esc(`${s.name}: ${tick(s.x[i]!)}, ${tick(s.y[i]!)}`)}</title></circle>`);
  });
  if (opts.marker) parts.push(markerSvg(opts.marker, L, (W - L - R) / max, T, H - B));
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(opts.xLabel)}</text>`,
    `<text x="12" y="${(T + H - B) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(T + H - B) / 2})">${esc(opts.yLabel)}</text>`, '</svg>');
  return parts.join('');
}

export interface Bar {
  label: string;
  value: number;
  color?: string;
}

/**
 * Horizontal bars, one row per item, with optional vertical reference lines (PSI bands).
 * @param opts.max right end of the axis. @default the largest value (or the last band), times 1.1
 */
export function barChart(bars: Bar[], opts: { title: string; format?: (v: number) => string; bands?: { at: number; label: string; color: string }[]; max?: number; width?: number }): string {
  const W = opts.width ?? 640, row = 18, L = 190, R = 60, T = 26;
  const nb = opts.bands?.length ?? 0;
  const H = T + bars.length * row + 12 + 12 * Math.max(1, nb);
  const fmt = opts.format ?? ((v: number) => v.toFixed(3));
  const top = opts.max ?? Math.max(1e-9, ...bars.map((b) => b.value), ...(opts.bands ?? []).map((b) => b.at)) * 1.1;
  const px = (v: number) => L + (Math.max(0, Math.min(v, top)) / top) * (W - L - R);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(opts.title)}</text>`];
  bars.forEach((b, i) => {
    const y = T + i * row;
    parts.push(`<text x="${L - 6}" y="${y + 13}" text-anchor="end" font-size="11">${esc(b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label)}</text>`,
      `<rect x="${L}" y="${y + 3}" width="${f(Math.max(0.5, px(b.value) - L))}" height="${row - 6}" fill="${b.color ?? '#3b6fd4'}"/>`,
      `<text x="${f(px(b.value) + 4)}" y="${y + 13}" font-size="10" fill="#1d2330">${esc(fmt(b.value))}</text>`);
  });
  // Band labels are staggered one per line: close thresholds (0.1, 0.25) would otherwise overlap.
  (opts.bands ?? []).forEach((band, k) => {
    const yLabel = T + bars.length * row + 12 + 12 * k;
    parts.push(`<line x1="${f(px(band.at))}" y1="${T - 2}" x2="${f(px(band.at))}" y2="${yLabel - 9}" stroke="${band.color}" stroke-dasharray="4 3"/>`,
      `<text x="${f(px(band.at) + 3)}" y="${yLabel}" font-size="10" fill="${band.color}">${esc(band.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Reference vs current proportions per bin, side by side (drift page). */
export function histogramPair(title: string, binLabels: string[], reference: number[], current: number[] | null, opts: { width?: number } = {}): string {
  const W = opts.width ?? 300, H = 150, L = 8, R = 8, T = 22, B = 22;
  const n = Math.max(1, binLabels.length);
  const top = Math.max(1e-9, ...reference, ...(current ?? []));
  const bw = (W - L - R) / n;
  const py = (v: number) => H - B - (v / top) * (H - T - B);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="14" text-anchor="middle" font-size="12" font-weight="600">${esc(title)}</text>`];
  for (let i = 0; i < n; i++) {
    const x = L + i * bw;
    const r = reference[i] ?? 0;
    parts.push(`<rect x="${f(x + 1)}" y="${f(py(r))}" width="${f(bw / 2 - 1)}" height="${f(H - B - py(r))}" fill="#9aa3b2"><title>${esc(binLabels[i] ?? '')}: reference ${(r * 100).toFixed(1)}%</title></rect>`);
    if (current) {
      const c = current[i] ?? 0;
      parts.push(`<rect x="${f(x + bw / 2)}" y="${f(py(c))}" width="${f(bw / 2 - 1)}" height="${f(H - B - py(c))}" fill="#d4703b"><title>${esc(binLabels[i] ?? '')}: current ${(c * 100).toFixed(1)}%</title></rect>`);
    }
  }
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#9aa3b2"/>`,
    `<text x="${L}" y="${H - 6}" font-size="10" fill="#6b7385">${esc(binLabels[0] ?? '')}</text>`,
    `<text x="${W - R}" y="${H - 6}" text-anchor="end" font-size="10" fill="#6b7385">${esc(binLabels[n - 1] ?? '')}</text>`, '</svg>');
  return parts.join('');
}

/** A round axis end at or above `max` and its tick step (1, 2 or 5 × 10^k, at most 5 steps). */
function niceAxis(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

function yAxis(parts: string[], top: number, step: number, x0: number, x1: number, py: (v: number) => number): void {
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(`<line x1="${x0}" y1="${f(py(v))}" x2="${x1}" y2="${f(py(v))}" stroke="#eceff3"/>`,
      `<text x="${x0 - 6}" y="${f(py(v) + 3)}" text-anchor="end" font-size="10" fill="#6b7385">${tick(v)}</text>`);
  }
}

/**
 * Counts per equal-width bin on a numeric x axis (score histogram), with an optional cut line.
 * @param h `edges` has one more entry than `counts` (ml/audience.ts scoreHistogram)
 */
export function histogramChart(h: { edges: number[]; counts: number[] }, opts: { title: string; xLabel: string; yLabel: string; marker?: Marker; color?: string; width?: number; height?: number }): string {
  const W = opts.width ?? 380, H = opts.height ?? 300, L = 54, R = 12, T = 26, B = 40;
  const lo = h.edges[0] ?? 0, hi = h.edges[h.edges.length - 1] ?? 1;
  const { top, step } = niceAxis(Math.max(0, ...h.counts));
  const span = (W - L - R) / (hi - lo || 1);
  const px = (x: number) => L + (x - lo) * span, py = (v: number) => H - B - (v / top) * (H - T - B);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(opts.title)}</text>`];
  yAxis(parts, top, step, L, W - R, py);
  h.counts.forEach((c, i) => {
    const x0 = px(h.edges[i]!), x1 = px(h.edges[i + 1]!);
    parts.push(`<rect x="${f(x0 + 0.5)}" y="${f(py(c))}" width="${f(Math.max(0.5, x1 - x0 - 1))}" height="${f(H - B - py(c))}" fill="${opts.color ?? '#3b6fd4'}"><title>${esc(`[${tick(h.edges[i]!)}, ${tick(h.edges[i + 1]!)}): ${c.toLocaleString('en-US')}`)}</title></rect>`);
  });
  for (const q of [0, 0.25, 0.5, 0.75, 1]) {
    const x = lo + q * (hi - lo);
    parts.push(`<text x="${f(px(x))}" y="${H - B + 14}" text-anchor="middle" font-size="10" fill="#6b7385">${tick(x)}</text>`);
  }
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#9aa3b2"/>`);
  // the marker's x is a data value: shift it so x = lo sits on the axis start
  if (opts.marker) parts.push(markerSvg({ ...opts.marker, x: opts.marker.x === null ? null : opts.marker.x - lo }, L, span, T, H - B));
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(opts.xLabel)}</text>`,
    `<text x="12" y="${(T + H - B) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(T + H - B) / 2})">${esc(opts.yLabel)}</text>`, '</svg>');
  return parts.join('');
}

export interface ColumnSeries {
  name: string;
  /** one value per group; null draws nothing (an empty decile) */
  values: (number | null)[];
  color: string;
}

/**
 * Vertical bars grouped by category, one bar per series in each group (lift by decile), with an
 * optional horizontal reference line (lift 1 = random).
 */
export function columnChart(groups: string[], series: ColumnSeries[], opts: { title: string; xLabel: string; yLabel: string; reference?: { at: number; label: string }; format?: (v: number) => string; width?: number; height?: number }): string {
  const W = opts.width ?? 380, H = opts.height ?? 300, L = 46, R = 12, T = 26, B = 40;
  const fmt = opts.format ?? ((v: number) => v.toFixed(2));
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const { top, step } = niceAxis(Math.max(opts.reference?.at ?? 0, ...values));
  const gw = (W - L - R) / Math.max(1, groups.length);
  const bw = (gw - 4) / Math.max(1, series.length);
  const py = (v: number) => H - B - (Math.max(0, v) / top) * (H - T - B);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(opts.title)}</text>`];
  yAxis(parts, top, step, L, W - R, py);
  groups.forEach((g, i) => {
    const x = L + i * gw + 2;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      parts.push(`<rect x="${f(x + k * bw)}" y="${f(py(v))}" width="${f(Math.max(0.5, bw - 1))}" height="${f(H - B - py(v))}" fill="${s.color}"><title>${esc(`${g}: ${s.name} ${fmt(v)}`)}</title></rect>`);
    });
    parts.push(`<text x="${f(x + gw / 2 - 2)}" y="${H - B + 14}" text-anchor="middle" font-size="10" fill="#6b7385">${esc(g)}</text>`);
  });
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#9aa3b2"/>`);
  if (opts.reference) {
    const y = f(py(opts.reference.at));
    parts.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#1d2330" stroke-dasharray="4 3"/>`,
      `<text x="${W - R - 4}" y="${f(py(opts.reference.at) - 4)}" text-anchor="end" font-size="10" fill="#1d2330">${esc(opts.reference.label)}</text>`);
  }
  series.forEach((s, k) => parts.push(`<text x="${W - R - 4}" y="${T + 12 + k * 14}" text-anchor="end" font-size="11" fill="${s.color}">${esc(s.name)}</text>`));
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(opts.xLabel)}</text>`,
    `<text x="12" y="${(T + H - B) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(T + H - B) / 2})">${esc(opts.yLabel)}</text>`, '</svg>');
  return parts.join('');
}
