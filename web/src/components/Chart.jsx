// A uPlot chart of several field series over one time axis. Binary fields are step lines on a
// 0..1 axis of their own; drag across the plot to zoom, double-click to zoom out.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

/** series: [{label, binary, points: [[seconds, value], ...]}]; from/to: the x range in s. */
export function Chart({ series, height = 320, from, to }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const at = new Map(times.map((t, i) => [t, i]));
    const data = [times];
    for (const s of series) {
      const col = new Array(times.length).fill(null);
      for (const [t, v] of s.points) col[at.get(t)] = v;
      data.push(col);
    }
    const hasBinary = series.some((s) => s.binary);
    const opts = {
      width: box.current.clientWidth || 600,
      height,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, bin: { range: [-0.1, 1.1] } },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' } },
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' }, scale: 'y' },
        ...(hasBinary ? [{ scale: 'bin', side: 1, stroke: 'currentColor', values: (u, v) => v.map((x) => (x === 1 ? 'on' : x === 0 ? 'off' : '')), grid: { show: false } }] : []),
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          scale: s.binary ? 'bin' : 'y',
          spanGaps: s.binary,
          points: { show: s.points.length < 60 },
          ...(s.binary ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
        })),
      ],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, box.current);
    // The whole chosen range, not just where there is data (drag zooms in, double-click resets).
    if (from && to && times.length) plot.current.setScale('x', { min: from, max: to });
    const resize = () => plot.current?.setSize({ width: box.current.clientWidth, height });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series, height, from, to]);
  const n = series.reduce((a, s) => a + s.points.filter((p) => p[1] !== null).length, 0);
  return <div class="chart" ref={box} data-points={n} />;
}
