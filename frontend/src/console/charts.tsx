/**
 * Small SVG charts, no chart library. Preact builds every node with createElementNS and every
 * label as a text node, so data (usernames, question names) can never become markup. Each
 * chart is an image with a name (`role="img"`, `aria-label`, `<title>`), each mark has its own
 * `<title>` (a tooltip), and every chart sits next to a table with the same numbers.
 */

import type { ComponentChildren } from "preact";

export interface Bar {
  label: string;
  value: number;
  /** A longer description for the bar's tooltip. */
  note?: string;
  cls?: string;
}

/** Round numbers for an axis from 0 (or `min`) to at least `max`. */
export function ticks(max: number, min = 0, count = 5): number[] {
  const span = Math.max(max - min, 1e-9);
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v < max + step / 2; v += step) out.push(Number(v.toFixed(10)));
  if (out[out.length - 1]! < max) out.push(out[out.length - 1]! + step);
  return out;
}

function Chart({ title, width, height, children, caption }: {
  title: string; width: number; height: number; children: ComponentChildren; caption?: string;
}) {
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} width="100%">
        <title>{title}</title>
        {children}
      </svg>
      <figcaption>{caption ?? title}</figcaption>
    </figure>
  );
}

/**
 * Vertical bars, one slot per bar. A bar is at most `maxBarWidth` wide, centred in its slot, so a
 * chart with one or two bars shows narrow bars on a wide axis rather than a wall of colour.
 */
export function BarChart({ bars, title, unit = "", caption, maxBarWidth = 64, format = String }: {
  bars: Bar[]; title: string; unit?: string; caption?: string; maxBarWidth?: number;
  /** How the axis writes its top value (a share as a percentage). */
  format?: (x: number) => string;
}) {
  const width = 640;
  const height = 160;
  const pad = 28;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = bars.length ? (width - pad) / bars.length : 0;
  const w = Math.max(1, Math.min(slot - 2, maxBarWidth));
  const every = Math.ceil(bars.length / 12); // at most about 12 labels under the axis
  return (
    <Chart title={title} width={width} height={height + 30} {...(caption ? { caption } : {})}>
      <line class="axis" x1={pad} x2={width} y1={height} y2={height} />
      {bars.map((b, i) => {
        const h = (b.value / max) * height;
        const mid = pad + i * slot + slot / 2;
        return (
          <g class="bar" data-label={b.label}>
            <rect class={`bar-rect ${b.cls ?? ""}`} x={mid - w / 2} y={height - h} width={w} height={h}>
              <title>{b.note ?? `${b.label}: ${b.value}${unit}`}</title>
            </rect>
            {i % every === 0 && <text class="bar-label" x={mid} y={height + 14} text-anchor="middle">{b.label}</text>}
          </g>
        );
      })}
      <text x={0} y={10}>{format(max)}</text>
      <text x={0} y={height}>0</text>
    </Chart>
  );
}

export function StackedBar({ parts, title }: { parts: { label: string; value: number; cls: string }[]; title: string }) {
  const total = Math.max(1, parts.reduce((s, p) => s + p.value, 0));
  let x = 0;
  return (
    <svg class="progress" viewBox="0 0 1000 20" preserveAspectRatio="none" role="img" aria-label={title}>
      <title>{title}</title>
      {parts.map((p) => {
        const w = (p.value / total) * 1000;
        const r = <rect class={p.cls} x={x} y={0} width={w} height={20}><title>{`${p.label}: ${p.value}`}</title></rect>;
        x += w;
        return r;
      })}
    </svg>
  );
}

export interface Estimate {
  label: string;
  /** The point estimate, and its interval (null when there is none). */
  value: number | null;
  low: number | null;
  high: number | null;
  /** The mark's tooltip: the numbers in words. */
  note: string;
  cls?: string;
}

/** One row per estimate: a dot at the value and a whisker over its interval. */
export function DotWhisker({ rows, title, domain, threshold, format, caption }: {
  rows: Estimate[];
  title: string;
  domain: [number, number];
  threshold?: { value: number; label: string } | null;
  format: (x: number) => string;
  caption?: string;
}) {
  const left = 150;
  const right = 20;
  const width = 640;
  const rowH = 26;
  const top = threshold ? 22 : 8;
  const height = top + rows.length * rowH + 26;
  const [lo, hi] = domain;
  const x = (v: number) => left + ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (width - left - right);
  const axis = ticks(hi, lo, 4).filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9);
  const bottom = top + rows.length * rowH;
  return (
    <Chart title={title} width={width} height={height} {...(caption ? { caption } : {})}>
      {axis.map((t) => (
        <g class="tick">
          <line class="grid" x1={x(t)} x2={x(t)} y1={top} y2={bottom} />
          <text x={x(t)} y={bottom + 16} text-anchor="middle">{format(t)}</text>
        </g>
      ))}
      {threshold && (
        <g class="threshold">
          <line x1={x(threshold.value)} x2={x(threshold.value)} y1={top - 4} y2={bottom} />
          <text x={x(threshold.value)} y={top - 8} text-anchor="middle">{threshold.label}</text>
        </g>
      )}
      {rows.map((r, i) => {
        const y = top + i * rowH + rowH / 2;
        return (
          <g class={`estimate ${r.cls ?? ""}`} data-label={r.label}>
            <title>{r.note}</title>
            <text class="row-label" x={left - 8} y={y + 4} text-anchor="end">{r.label.slice(0, 22)}</text>
            {r.low !== null && r.high !== null && <line class="whisker" x1={x(r.low)} x2={x(r.high)} y1={y} y2={y} />}
            {r.value !== null
              ? <circle class="dot" cx={x(r.value)} cy={y} r={5} />
              : <text class="none" x={left + 4} y={y + 4}>no data</text>}
          </g>
        );
      })}
    </Chart>
  );
}

export interface Point {
  label: string;
  x: number;
  y: number;
  note: string;
  cls?: string;
}

/** A scatter plot from the origin, each point labelled. */
export function Scatter({ points, title, xLabel, yLabel, caption }: {
  points: Point[]; title: string; xLabel: string; yLabel: string; caption?: string;
}) {
  const width = 640;
  const height = 260;
  const left = 52;
  const bottom = 40;
  const top = 12;
  const right = 90;
  const xs = ticks(Math.max(1, ...points.map((p) => p.x)));
  const ys = ticks(Math.max(1e-9, ...points.map((p) => p.y)));
  const xMax = xs[xs.length - 1]!;
  const yMax = ys[ys.length - 1]!;
  const px = (v: number) => left + (v / xMax) * (width - left - right);
  const py = (v: number) => height - bottom - (v / yMax) * (height - bottom - top);
  return (
    <Chart title={title} width={width} height={height} {...(caption ? { caption } : {})}>
      {xs.map((t) => (
        <g class="tick">
          <line class="grid" x1={px(t)} x2={px(t)} y1={top} y2={height - bottom} />
          <text x={px(t)} y={height - bottom + 14} text-anchor="middle">{String(t)}</text>
        </g>
      ))}
      {ys.map((t) => (
        <g class="tick">
          <line class="grid" x1={left} x2={width - right} y1={py(t)} y2={py(t)} />
          <text x={left - 6} y={py(t) + 4} text-anchor="end">{String(t)}</text>
        </g>
      ))}
      <text class="axis-label" x={(left + width - right) / 2} y={height - 6} text-anchor="middle">{xLabel}</text>
      <text class="axis-label" x={12} y={(top + height - bottom) / 2} text-anchor="middle"
        transform={`rotate(-90 12 ${(top + height - bottom) / 2})`}>{yLabel}</text>
      {points.map((p) => (
        <g class={`point ${p.cls ?? ""}`} data-label={p.label}>
          <title>{p.note}</title>
          <circle class="dot" cx={px(p.x)} cy={py(p.y)} r={5} />
          <text x={px(p.x) + 8} y={py(p.y) + 4}>{p.label.slice(0, 16)}</text>
        </g>
      ))}
    </Chart>
  );
}
