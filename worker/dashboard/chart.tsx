/**
 * A bar chart drawn on the server as SVG: no script, no library. The SVG is labelled with a
 * text summary (screen readers, and anyone reading the page without images), and each bar
 * carries its exact value in a <title> tooltip and a data attribute.
 */
export type Point = { label: string; value: number };

export function BarChart({
  title,
  points,
  format,
  width = 720,
  height = 220,
}: {
  title: string;
  points: Point[];
  format: (v: number) => string;
  width?: number;
  height?: number;
}) {
  const max = Math.max(0, ...points.map((p) => p.value));
  const total = points.reduce((sum, p) => sum + p.value, 0);
  const summary =
    points.length === 0
      ? `${title}: no data.`
      : `${title}: ${points.length} bars, total ${format(total)}, highest ${format(max)} (${points.find((p) => p.value === max)?.label}).`;
  const pad = { left: 8, right: 8, top: 16, bottom: 40 };
  const inner = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom };
  const slot = points.length ? inner.w / points.length : inner.w;
  const bar = Math.max(2, Math.min(48, slot * 0.7));
  // Label every bar when they fit, otherwise about ten of them.
  const labelEvery = Math.max(1, Math.ceil(points.length / 10));
  return (
    <figure>
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={summary} data-chart={title}>
        <title>{summary}</title>
        <line x1={pad.left} x2={width - pad.right} y1={pad.top + inner.h} y2={pad.top + inner.h} stroke="#8a94a3" />
        {points.map((p, i) => {
          const h = max > 0 ? Math.round((p.value / max) * inner.h) : 0;
          const x = pad.left + i * slot + (slot - bar) / 2;
          return (
            <g data-label={p.label} data-value={p.value}>
              <rect x={x.toFixed(1)} y={pad.top + inner.h - h} width={bar.toFixed(1)} height={h} fill="#fca311">
                <title>{`${p.label}: ${format(p.value)}`}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text x={(x + bar / 2).toFixed(1)} y={height - pad.bottom + 16} font-size="11" text-anchor="middle" fill="#4a5260">
                  {p.label}
                </text>
              )}
            </g>
          );
        })}
        {max > 0 && (
          <text x={pad.left} y={pad.top - 4} font-size="11" fill="#4a5260">
            {format(max)}
          </text>
        )}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
