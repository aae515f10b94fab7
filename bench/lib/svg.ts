// A very small SVG chart writer for the benchmark report: line charts with markers, and ranges
// (min–max whiskers with p50/p95/p99 ticks). Plain strings, no dependencies.

export interface Series {
  name: string;
  color: string;
  points: Array<{ x: number; y: number }>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Horizontal reference lines, e.g. a target. */
  references?: Array<{ y: number; label: string }>;
  /** Use a logarithmic x axis (N = 100 … 2000). */
  logX?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(o: ChartOptions, xs: number[], yMax: number) {
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const left = 64;
  const right = 150;
  const top = 40;
  const bottom = 52;
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const fx = (x: number) => {
    if (xMax === xMin) return left + (width - left - right) / 2;
    const t = o.logX ? Math.log(x / xMin) / Math.log(xMax / xMin) : (x - xMin) / (xMax - xMin);
    return left + t * (width - left - right);
  };
  const fy = (y: number) => top + (1 - y / yMax) * (height - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${fy(y)}" y2="${fy(y)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${fy(y) + 4}" text-anchor="end">${Number(y.toPrecision(3))}</text>`,
    );
  }
  for (const x of [...new Set(xs)]) {
    parts.push(`<text x="${fx(x)}" y="${height - bottom + 18}" text-anchor="middle">${x}</text>`);
  }
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${fy(0)}" y2="${fy(0)}" stroke="#333"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${fy(0)}" stroke="#333"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  for (const r of o.references ?? []) {
    if (r.y > yMax) continue;
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${fy(r.y)}" y2="${fy(r.y)}" stroke="#c00" stroke-dasharray="5 4"/>`,
      `<text x="${width - right + 6}" y="${fy(r.y) + 4}" fill="#c00">${esc(r.label)}</text>`,
    );
  }
  return { parts, fx, fy, width, right, top };
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...series.flatMap((s) => s.points.map((p) => p.y)), ...(o.references ?? []).map((r) => r.y)];
  const { parts, fx, fy, width, right, top } = frame(o, xs, niceMax(Math.max(...ys) * 1.05));
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${fx(p.x)},${fy(p.y)}`).join(' ')}"/>`,
      );
    for (const p of pts)
      parts.push(
        `<circle cx="${fx(p.x)}" cy="${fy(p.y)}" r="4" fill="${s.color}"><title>${esc(s.name)}: ${p.y} at ${p.x}</title></circle>`,
      );
    const ly = top + 14 + i * 18;
    parts.push(
      `<rect x="${width - right + 8}" y="${ly - 9}" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${width - right + 26}" y="${ly + 1}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export interface Range {
  x: number;
  label: string;
  color: string;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Per group a whisker from min to max, a box from p50 to p95, and a tick at p99. */
export function rangeChart(ranges: Range[], o: ChartOptions): string {
  const groups = [...new Set(ranges.map((r) => r.x))].sort((a, b) => a - b);
  const index = (x: number) => groups.indexOf(x) + 1;
  const slots = groups.length + 1;
  const { parts, fy, width, right, top } = frame(
    { ...o, logX: false },
    [0, slots],
    niceMax(Math.max(...ranges.map((r) => r.max), ...(o.references ?? []).map((r) => r.y)) * 1.05),
  );
  // frame()'s x labels are the slot numbers 0 and `slots`; cover them and label the groups instead.
  const left = 64;
  const plot = width - left - right;
  const gx = (x: number) => left + (index(x) / slots) * plot;
  parts.push(`<rect x="${left - 20}" y="${fy(0) + 2}" width="${plot + 40}" height="24" fill="white"/>`);
  for (const g of groups) parts.push(`<text x="${gx(g)}" y="${fy(0) + 18}" text-anchor="middle">${g}</text>`);
  const perGroup = new Map<number, Range[]>();
  for (const r of ranges) perGroup.set(r.x, [...(perGroup.get(r.x) ?? []), r]);
  const labels = new Map<string, string>();
  for (const [x, rs] of perGroup) {
    rs.forEach((r, i) => {
      labels.set(r.label, r.color);
      const cx = gx(x) + (i - (rs.length - 1) / 2) * 26;
      parts.push(
        `<line x1="${cx}" x2="${cx}" y1="${fy(r.min)}" y2="${fy(r.max)}" stroke="${r.color}"/>`,
        `<rect x="${cx - 8}" y="${fy(r.p95)}" width="16" height="${Math.max(1, fy(r.p50) - fy(r.p95))}" fill="${r.color}" fill-opacity="0.35" stroke="${r.color}"><title>${esc(r.label)} N=${x}: p50 ${r.p50}, p95 ${r.p95}, p99 ${r.p99}, max ${r.max}</title></rect>`,
        `<line x1="${cx - 8}" x2="${cx + 8}" y1="${fy(r.p50)}" y2="${fy(r.p50)}" stroke="${r.color}" stroke-width="3"/>`,
        `<line x1="${cx - 5}" x2="${cx + 5}" y1="${fy(r.p99)}" y2="${fy(r.p99)}" stroke="${r.color}" stroke-width="2"/>`,
      );
    });
  }
  [...labels].forEach(([label, color], i) => {
    const ly = top + 14 + i * 18;
    parts.push(
      `<rect x="${width - right + 8}" y="${ly - 9}" width="12" height="12" fill="${color}"/>`,
      `<text x="${width - right + 26}" y="${ly + 1}">${esc(label)}</text>`,
    );
  });
  parts.push(
    `<text x="${width - right + 8}" y="${top + 14 + labels.size * 18 + 10}" fill="#555">box p50–p95,</text>`,
    `<text x="${width - right + 8}" y="${top + 14 + labels.size * 18 + 24}" fill="#555">tick p99, line min–max</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
