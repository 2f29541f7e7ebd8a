// overview.tsx - throughput, packet rate, RTT and retransmissions over time (live from the
// stream's frames, or the store's history when the time range goes back), the protocol mix,
// the top talkers and the active alerts.

import { useEffect, useMemo, useState } from "preact/hooks";
import type uPlot from "uplot";
import { Chart } from "../chart";
import { bps, bytes, ms, pps, si } from "../format";
import { apiGet } from "../api";
import { go, useRoute, useStream } from "../hooks";
import { stepFor, timeRange } from "../route";
import type { Series } from "../state";

interface Point {
  t: number;
  bytes: number;
  packets: number;
  rtt_avg_us: number;
  retrans: number;
}

function historyToSeries(points: Point[], step: number): Series {
  const s: Series = { t: [], bps: [], pps: [], rtt50: [], rtt95: [], retrans: [] };
  for (const p of points) {
    s.t.push(p.t);
    s.bps.push((p.bytes * 8) / step);
    s.pps.push(p.packets / step);
    s.rtt50.push(p.rtt_avg_us ? p.rtt_avg_us / 1000 : null);
    s.rtt95.push(null);
    s.retrans.push(p.retrans / step);
  }
  return s;
}

const RANGES = ["", "-5m", "-15m", "-1h", "-6h", "-24h"];

export function Overview() {
  const stream = useStream();
  const route = useRoute();
  const [hist, setHist] = useState<{ s: Series | null; err: string | null }>({ s: null, err: null });
  const range = timeRange(route, Math.floor(Date.now() / 1000));
  const rangeKey = range ? `${route.from}|${route.to ?? ""}` : "";
  useEffect(() => {
    if (!range) {
      setHist({ s: null, err: null });
      return;
    }
    const step = stepFor(range);
    let alive = true;
    apiGet<{ points: Point[] }>("timeseries", { metric: "all", from: range.from, to: range.to, step })
      .then((r) => alive && setHist({ s: historyToSeries(r.points, step), err: null }))
      .catch((e: Error) => alive && setHist({ s: null, err: e.message }));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rangeKey]);

  const s = range ? hist.s : stream.series;
  const n = s?.t.length ?? 0;
  const lastT = n > 0 ? s!.t[n - 1] : 0;
  // new arrays only when a point was added (the series moved on by a second), so that the
  // charts redraw once a second rather than at every stream frame; the last second's values,
  // updated in place by later frames of that second, are drawn with the next point
  const data = useMemo(() => {
    const x = s ?? { t: [], bps: [], pps: [], rtt50: [], rtt95: [], retrans: [] };
    return {
      tp: [x.t.slice(), x.bps.slice()] as uPlot.AlignedData,
      pr: [x.t.slice(), x.pps.slice()] as uPlot.AlignedData,
      rtt: [x.t.slice(), x.rtt50.slice(), x.rtt95.slice()] as uPlot.AlignedData,
      re: [x.t.slice(), x.retrans.slice()] as uPlot.AlignedData,
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [s, n, lastT]);

  const g = stream.state.global;
  const host = route.host;
  const talkers = stream.state.topTalkers.filter((t) => !host || t.host === host);
  const maxT = Math.max(1, ...talkers.map((t) => t.bytes));
  const protos = stream.state.protocols;
  const maxP = Math.max(1, ...protos.map((p) => p.bytes));
  const alerts = stream.state.alerts;
  return (
    <div>
      {alerts.length > 0 && (
        <div class="banner" data-testid="alert-banner">
          {alerts.length} active alert{alerts.length > 1 ? "s" : ""}: {alerts.slice(0, 3).map((a) => String(a.summary ?? a.detector ?? "alert")).join("; ")}{" "}
          <a href="#/alerts">all alerts</a>
        </div>
      )}
      <div class="row">
        <span class="dim">time range:</span>
        {RANGES.map((r) => (
          <button key={r} class={(route.from ?? "") === r ? "active" : ""} onClick={() => go({ from: r || undefined, to: undefined })}>
            {r || "live"}
          </button>
        ))}
        {hist.err && <span class="error">history: {hist.err}</span>}
      </div>
      <div class="kpis">
        <div class="kpi"><b data-testid="kpi-bps">{bps(g?.bps)}</b><span>throughput</span></div>
        <div class="kpi"><b>{pps(g?.pps)}</b><span>packets</span></div>
        <div class="kpi"><b data-testid="kpi-flows">{si(g?.flows_active)}</b><span>active flows</span></div>
        <div class="kpi"><b>{si(g?.new_flows_ps)}/s</b><span>new flows</span></div>
        <div class="kpi"><b>{ms(g?.rtt_ms_p50)} / {ms(g?.rtt_ms_p95)}</b><span>handshake RTT p50 / p95</span></div>
        <div class="kpi"><b>{si(g?.retrans_ps)}/s</b><span>retransmissions</span></div>
      </div>
      <div class="grid">
        <Chart title="Throughput" series={[{ label: "bit/s", color: "#4aa3ff", fmt: bps }]} data={data.tp} />
        <Chart title="Packet rate" series={[{ label: "pkt/s", color: "#5fd38d", fmt: pps }]} data={data.pr} />
        <Chart
          title="Handshake RTT"
          series={[
            { label: range ? "mean" : "p50", color: "#ffb347", fmt: ms },
            { label: "p95", color: "#ff6b6b", fmt: ms },
          ]}
          data={data.rtt}
        />
        <Chart title="Retransmissions" series={[{ label: "/s", color: "#c792ea", fmt: (v) => si(v) }]} data={data.re} />
        <div class="panel" data-testid="protocols">
          <h2>Protocols (last 10 s)</h2>
          <table>
            <tbody>
              {protos.map((p) => (
                <tr key={p.name}>
                  <td>{p.name}</td>
                  <td><span class="bar" style={{ width: `${(100 * p.bytes) / maxP}px` }} /> {bytes(p.bytes)}</td>
                  <td>{si(p.pkts)} pkts</td>
                  <td>{p.flows} flows</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="panel" data-testid="talkers">
          <h2>Top talkers (last 10 s){host ? ` - ${host}` : ""}</h2>
          <table>
            <tbody>
              {talkers.map((t) => (
                <tr key={t.host}>
                  <td><a href={`#/host?host=${encodeURIComponent(t.host)}`}>{t.host}</a></td>
                  <td><span class="bar" style={{ width: `${(100 * t.bytes) / maxT}px` }} /> {bytes(t.bytes)}</td>
                  <td>{si(t.pkts)} pkts</td>
                  <td>{t.flows} flows</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}
