import { type Html, html } from "./html.ts";

export type Series = { name: string; className: string; points: { at: number; value: number | null }[] };

export type ChartOptions = {
  id: string;
  title: string;
  series: Series[];
  /** Drawn as a dashed line: the alert threshold. */
  threshold?: number | null;
  now: number;
  windowMs?: number;
  unit?: string;
};

const WIDTH = 560;
const HEIGHT = 140;
const PAD = { left: 44, right: 8, top: 10, bottom: 20 };
const DAY_MS = 24 * 60 * 60 * 1000;

function niceMax(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

const fixed = (n: number) => (Math.round(n * 10) / 10).toString();

/** Polyline runs of a series: a missing value (no snapshot, no heartbeat yet) breaks the line. */
function runs(series: Series, x: (at: number) => number, y: (v: number) => number): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const point of series.points) {
    if (point.value === null) {
      if (current.length > 0) out.push(current.join(" "));
      current = [];
      continue;
    }
    current.push(`${fixed(x(point.at))},${fixed(y(point.value))}`);
  }
  if (current.length > 0) out.push(current.join(" "));
  return out;
}

/**
 * A 24 h line chart as inline SVG: no script, no external asset, so the console works under a
 * `default-src 'none'` Content-Security-Policy. The y axis starts at 0 and ends at a round number
 * above the largest value (and the threshold, so it is always visible).
 */
export function lineChart(options: ChartOptions): Html {
  const windowMs = options.windowMs ?? DAY_MS;
  const start = options.now - windowMs;
  const values = options.series.flatMap((s) => s.points.map((p) => p.value ?? 0));
  const max = niceMax(Math.max(0, ...values, options.threshold ?? 0));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (at: number) => PAD.left + (Math.min(Math.max(at - start, 0), windowMs) / windowMs) * plotW;
  const y = (v: number) => PAD.top + plotH - (Math.min(v, max) / max) * plotH;
  const points = options.series.reduce((n, s) => n + s.points.filter((p) => p.value !== null).length, 0);

  const lines = options.series.flatMap((s) =>
    runs(s, x, y).map(
      (run) =>
        html`<polyline class="line ${s.className}" points="${run}"><title>${s.name}</title></polyline>`,
    ),
  );
  const threshold =
    options.threshold === null || options.threshold === undefined
      ? ""
      : html`<line class="threshold" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fixed(y(options.threshold))}" y2="${fixed(y(options.threshold))}"><title>threshold ${options.threshold}</title></line>`;
  const legend = options.series.map((s) => html`<span class="key ${s.className}">${s.name}</span>`);

  return html`<figure class="chart" data-chart="${options.id}" data-points="${points}">
<figcaption>${options.title}${options.unit ? html` <small>(${options.unit})</small>` : ""} ${legend}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${options.title}, last 24 hours">
<rect class="plot" x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}"></rect>
<text class="axis" x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end">${max}</text>
<text class="axis" x="${PAD.left - 4}" y="${PAD.top + plotH}" text-anchor="end">0</text>
<text class="axis" x="${PAD.left}" y="${HEIGHT - 4}">24 h ago</text>
<text class="axis" x="${WIDTH - PAD.right}" y="${HEIGHT - 4}" text-anchor="end">now</text>
${threshold}${lines}
${points === 0 ? html`<text class="empty" x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no snapshots yet</text>` : ""}
</svg></figure>`;
}
