// chart.tsx - a uPlot time series in a Preact component. Data changes are pushed with
// setData (no re-creation); the plot follows its container's width.

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartProps {
  title: string;
  series: { label: string; color: string; fmt?: (v: number | null) => string }[];
  data: uPlot.AlignedData;
  height?: number;
}

export function Chart({ title, series, data, height = 180 }: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = series.map((s) => s.label).join("|");
  useEffect(() => {
    if (!el.current) return;
    const opts: uPlot.Options = {
      width: el.current.clientWidth || 400,
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
    const p = new uPlot(opts, data, el.current);
    plot.current = p;
    const ro = new ResizeObserver(() => {
      if (el.current) p.setSize({ width: el.current.clientWidth, height });
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
    plot.current?.setData(data);
  }, [data]);
  return (
    <div class="panel chart" data-chart={title}>
      <h2>{title}</h2>
      <div ref={el} />
    </div>
  );
}
