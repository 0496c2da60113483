// Line charts of a worker's stored samples, as inline SVG (no chart library: one kind of chart).

const SVG = "http://www.w3.org/2000/svg";

export interface Point {
  at: number; // ms since the epoch
  value: number;
}

/** The SVG path of `points` in a width × height box: time from `from` to `to` across, 0 to
 * `top` up (a point missing its value breaks the line). */
export function linePath(points: (Point | null)[], from: number, to: number, top: number,
                         width: number, height: number): string {
  const span = Math.max(1, to - from);
  const x = (at: number) => ((at - from) / span) * width;
  const y = (value: number) => height - (Math.min(Math.max(value, 0), top) / top) * height;
  let path = "";
  let drawing = false;
  for (const point of points) {
    if (!point) {
      drawing = false;
      continue;
    }
    path += `${drawing ? "L" : "M"}${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`;
    drawing = true;
  }
  return path;
}

/** A round top for the y axis: 100 for percentages, else the largest value rounded up. */
export function niceTop(values: number[], percent: boolean): number {
  if (percent) return 100;
  const largest = Math.max(0, ...values);
  if (largest === 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(largest));
  return Math.ceil(largest / magnitude) * magnitude;
}

/** A chart with a title and a text summary for screen readers. */
export function lineChart(title: string, unit: string, points: (Point | null)[], from: number, to: number,
                          percent = false): SVGSVGElement {
  const width = 600, height = 160;
  const values = points.filter((p): p is Point => p !== null).map((p) => p.value);
  const top = niceTop(values, percent);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 20}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("class", "chart");
  const latest = values.at(-1);
  const summary = values.length
    ? `${title}: ${values.length} samples, latest ${latest?.toFixed(1)} ${unit}, highest ${Math.max(...values).toFixed(1)} ${unit}`
    : `${title}: no samples in this window`;
  svg.setAttribute("aria-label", summary);
  const element = (name: string, attributes: Record<string, string>, text?: string) => {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text) node.textContent = text;
    svg.appendChild(node);
  };
  element("title", {}, summary);
  element("line", { x1: "0", y1: String(height), x2: String(width), y2: String(height), class: "axis" });
  element("text", { x: "4", y: "12", class: "tick" }, `${top} ${unit}`);
  element("text", { x: "4", y: String(height + 16), class: "tick" }, new Date(from).toISOString().slice(5, 16).replace("T", " ") + " UTC");
  element("text", { x: String(width - 4), y: String(height + 16), class: "tick end" }, "now");
  element("path", { d: linePath(points, from, to, top, width, height), class: "line" });
  const last = points.filter((p): p is Point => p !== null).at(-1);
  if (last) { // the latest sample as a dot: a single sample draws no line
    const [x, y] = linePath([last], from, to, top, width, height).slice(1).split(",");
    element("circle", { cx: x, cy: y, r: "4", class: "dot" });
  }
  return svg;
}
