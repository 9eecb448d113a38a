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
}

/**
 * A unit-square line chart (ROC, PR): axes 0–1 with grid lines at 0.25 steps.
 * @param opts.diagonal draw the chance line y = x (ROC). @default false
 */
export function lineChart(series: LineSeries[], opts: { title: string; xLabel: string; yLabel: string; diagonal?: boolean; width?: number; height?: number }): string {
  const W = opts.width ?? 340, H = opts.height ?? 300, L = 46, R = 12, T = 26, B = 40;
  const px = (x: number) => L + x * (W - L - R), py = (y: number) => H - B - y * (H - T - B);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(opts.title)}</text>`];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${f(px(t))}" y1="${f(py(0))}" x2="${f(px(t))}" y2="${f(py(1))}" stroke="#eceff3"/>`,
      `<line x1="${f(px(0))}" y1="${f(py(t))}" x2="${f(px(1))}" y2="${f(py(t))}" stroke="#eceff3"/>`,
      `<text x="${f(px(t))}" y="${H - B + 14}" text-anchor="middle" font-size="10" fill="#6b7385">${t}</text>`,
      `<text x="${L - 6}" y="${f(py(t) + 3)}" text-anchor="end" font-size="10" fill="#6b7385">${t}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#9aa3b2"/>`);
  if (opts.diagonal) parts.push(`<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#9aa3b2" stroke-dasharray="4 3"/>`);
  series.forEach((s, k) => {
    const n = Math.min(s.x.length, s.y.length);
    const step = Math.max(1, Math.floor(n / 400)); // a few hundred points draw the same curve
    const pts: string[] = [];
    for (let i = 0; i < n; i += step) pts.push(`${f(px(s.x[i]!))},${f(py(s.y[i]!))}`);
    if (n > 0 && (n - 1) % step !== 0) pts.push(`${f(px(s.x[n - 1]!))},${f(py(s.y[n - 1]!))}`);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`,
      `<text x="${W - R - 4}" y="${H - B - 8 - k * 14}" text-anchor="end" font-size="11" fill="${s.color}">${esc(s.name)}</text>`);
  });
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
