/** The live per-epoch loss chart: a small SVG drawn by hand, redrawn at each epoch (vega would re-parse a spec each time). */

export interface CurveSeries {
  label: string;
  points: { epoch: number; loss: number }[];
}

const COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#ff9da6', '#9d755d'];

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function lossCurveSvg(series: CurveSeries[], width = 640, height = 220): string {
  const shown = series.filter((s) => s.points.length > 0);
  if (shown.length === 0) return '';
  const all = shown.flatMap((s) => s.points);
  const maxEpoch = Math.max(...all.map((p) => p.epoch), 2);
  const lo = Math.min(...all.map((p) => p.loss));
  const hi = Math.max(...all.map((p) => p.loss));
  const span = hi - lo || 1;
  const [l, r, t, b] = [48, 12, 20, 30];
  const x = (e: number) => l + ((e - 1) / (maxEpoch - 1)) * (width - l - r);
  const y = (v: number) => t + (1 - (v - lo) / span) * (height - t - b);
  const lines = shown.map((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const pts = s.points.map((p) => `${x(p.epoch).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
    const dots = s.points.map((p) => `<circle cx="${x(p.epoch).toFixed(1)}" cy="${y(p.loss).toFixed(1)}" r="2.5" fill="${c}"><title>${esc(s.label)} epoch ${p.epoch}: ${p.loss}</title></circle>`).join('');
    return `<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts}"/>${dots}`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 16 * shown.length}" font-size="11" font-family="sans-serif">
<text x="${l}" y="12">training loss at the end of each epoch</text>
<line x1="${l}" y1="${height - b}" x2="${width - r}" y2="${height - b}" stroke="#888"/><line x1="${l}" y1="${t}" x2="${l}" y2="${height - b}" stroke="#888"/>
<text x="${l - 4}" y="${y(hi) + 4}" text-anchor="end">${hi.toFixed(3)}</text><text x="${l - 4}" y="${y(lo) + 4}" text-anchor="end">${lo.toFixed(3)}</text>
<text x="${x(1)}" y="${height - b + 14}" text-anchor="middle">1</text><text x="${x(maxEpoch)}" y="${height - b + 14}" text-anchor="middle">epoch ${maxEpoch}</text>
${lines.join('\n')}
${shown.map((s, i) => `<text x="${l}" y="${height + 4 + 16 * i}"><tspan fill="${COLOURS[i % COLOURS.length]}">■ </tspan>${esc(s.label)}</text>`).join('\n')}
</svg>`;
}
