/** Small SVG charts (no chart library): bars over labelled buckets, and one stacked bar. */

export interface Bar {
  label: string;
  value: number;
}

export function BarChart({ bars, title, unit = "" }: { bars: Bar[]; title: string; unit?: string }) {
  const width = 640;
  const height = 160;
  const pad = 24;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = bars.length ? (width - pad) / bars.length : 0;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height + 30}`} role="img" aria-label={title} width="100%">
        <title>{title}</title>
        {bars.map((b, i) => {
          const h = (b.value / max) * height;
          return (
            <g>
              <rect class="bar-rect" x={pad + i * w + 1} y={height - h} width={Math.max(1, w - 2)} height={h}>
                <title>{`${b.label}: ${b.value}${unit}`}</title>
              </rect>
              {(bars.length <= 12 || i % Math.ceil(bars.length / 12) === 0) && (
                <text x={pad + i * w + w / 2} y={height + 14} text-anchor="middle">{b.label}</text>
              )}
            </g>
          );
        })}
        <text x={0} y={10}>{String(max)}</text>
        <text x={0} y={height}>0</text>
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
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
