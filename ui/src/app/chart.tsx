// chart.tsx - a uPlot time series in a Preact component. Data changes are pushed with
// setData (no re-creation); the plot follows its container's width. What uPlot gets is the
// data decimated to about one bucket per pixel of the plot's width (decimate.ts: the smallest
// and largest value of each, so spikes survive): a day of seconds costs a redraw of ~2 points
// per pixel, not 86,400. A chart redraws when its `data` changes identity: callers hand new
// arrays only when a point was added (overview.tsx).

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { decimate } from "./decimate";

export interface ChartProps {
  title: string;
  series: { label: string; color: string; fmt?: (v: number | null) => string }[];
  data: uPlot.AlignedData;
  height?: number;
}

export function Chart({ title, series, data, height = 180 }: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const raw = useRef(data);
  raw.current = data;
  const key = series.map((s) => s.label).join("|");
  useEffect(() => {
    if (!el.current) return;
    const width = el.current.clientWidth || 400;
    const opts: uPlot.Options = {
      width,
      height,
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          spanGaps: false,
          value: s.fmt ? (_u: uPlot, v: number | null) => s.fmt!(v) : undefined,
        })),
      ],
      axes: [
        { stroke: "#8a96a3", grid: { stroke: "#2a3540" } },
        {
          stroke: "#8a96a3",
          grid: { stroke: "#2a3540" },
          size: 86,
          values: (_u: uPlot, ticks: number[]) => ticks.map((t) => (series[0].fmt ? series[0].fmt(t) : String(t))),
        },
      ],
      scales: { x: { time: true } },
      legend: { show: true },
    };
    const p = new uPlot(opts, fit(raw.current, width), el.current);
    plot.current = p;
    const ro = new ResizeObserver(() => {
      if (!el.current || el.current.clientWidth === p.width) return;
      p.setSize({ width: el.current.clientWidth, height });
      p.setData(fit(raw.current, p.width));
    });
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, height]);
  useEffect(() => {
    const p = plot.current;
    if (p) p.setData(fit(data, p.width));
  }, [data]);
  return (
    <div class="panel chart" data-chart={title}>
      <h2>{title}</h2>
      <div ref={el} />
    </div>
  );
}

/** `data` decimated to the plot's width in CSS pixels (a bucket per pixel). */
export function fit(data: uPlot.AlignedData, width: number): uPlot.AlignedData {
  const [x, ...ys] = data;
  return decimate(x as ArrayLike<number>, ys as ArrayLike<number | null>[], width) as uPlot.AlignedData;
}
