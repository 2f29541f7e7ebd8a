// misc.tsx - the alerts page, the agents page and the host detail.

import { useEffect, useState } from "preact/hooks";
import { apiGet } from "../api";
import { bps, bytes, cell, pps, si, utc } from "../format";
import { hasHost } from "../flows";
import { go, href, useRoute, useStream } from "../hooks";

function useApi<T>(path: string, params: Record<string, string | number | undefined>, every = 0): { data: T | null; err: string | null } {
  const [s, setS] = useState<{ data: T | null; err: string | null }>({ data: null, err: null });
  const key = `${path}?${JSON.stringify(params)}`;
  useEffect(() => {
    let alive = true;
    const load = () =>
      apiGet<T>(path, params)
        .then((data) => alive && setS({ data, err: null }))
        .catch((e: Error) => alive && setS({ data: null, err: e.message }));
    void load();
    const t = every ? setInterval(load, every) : 0;
    return () => {
      alive = false;
      if (t) clearInterval(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return s;
}

function Table({ rows, cols }: { rows: Record<string, unknown>[]; cols: string[] }) {
  return (
    <table>
      <thead>
        <tr>{cols.map((c) => <th key={c}>{c}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>{cols.map((c) => <td key={c} title={cell(r[c])}>{cell(r[c])}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

function columnsOf(rows: Record<string, unknown>[], max = 12): string[] {
  const seen: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.includes(k)) seen.push(k);
  return seen.slice(0, max);
}

export function Alerts() {
  const route = useRoute();
  const [state, setState] = useState("all");
  const a = useApi<{ alerts?: Record<string, unknown>[] } | Record<string, unknown>[]>("alerts", { state, host: route.host, limit: 200 }, 5000);
  const rows = Array.isArray(a.data) ? a.data : (a.data?.alerts ?? []);
  return (
    <div class="panel" data-testid="alerts">
      <h2>Alerts{route.host ? ` for ${route.host}` : ""}</h2>
      <div class="row">
        {["active", "cleared", "all"].map((s) => (
          <button key={s} onClick={() => setState(s)} class={s === state ? "active" : ""}>{s}</button>
        ))}
      </div>
      {a.err && <div class="error">{a.err}</div>}
      {rows.length === 0 ? <p class="dim">no alerts</p> : <Table rows={rows} cols={columnsOf(rows)} />}
    </div>
  );
}

export function Agents() {
  const stream = useStream();
  const inv = useApi<{ agents: Record<string, unknown>[] }>("agents", {}, 5000);
  const live = stream.state.agents;
  return (
    <div>
      <div class="panel" data-testid="agents">
        <h2>Agents (live)</h2>
        <table>
          <thead>
            <tr>
              <th>agent</th><th>connected</th><th>throughput</th><th>packets</th><th>active flows</th>
              <th>queue depth</th><th>kernel drops</th><th>lost batches</th><th>clock offset</th>
            </tr>
          </thead>
          <tbody>
            {live.map((a) => (
              <tr key={a.id}>
                <td>{a.id}</td>
                <td class={a.connected ? "" : "error"}>{a.connected ? "yes" : "no"}</td>
                <td>{bps(a.bps)}</td>
                <td>{pps(a.pps)}</td>
                <td>{si(a.flows_active)}</td>
                <td>{si(a.queue_depth)}</td>
                <td class={a.kernel_drops ? "error" : ""}>{si(a.kernel_drops)}</td>
                <td class={a.lost_batches ? "error" : ""}>{si(a.lost_batches)}</td>
                <td>{a.clock_offset_ms === null ? "unknown" : `${a.clock_offset_ms} ms`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="panel">
        <h2>Inventory (GET /api/v1/agents)</h2>
        {inv.err && <div class="error">{inv.err}</div>}
        {inv.data && <Table rows={inv.data.agents} cols={columnsOf(inv.data.agents, 14)} />}
      </div>
    </div>
  );
}

export function HostDetail() {
  const route = useRoute();
  const stream = useStream();
  const host = route.host;
  const top = useApi<{ top: { label: string; bytes: number; packets: number; flows: number }[] }>("top", { by: "bytes", group: "pair", n: 50 }, 5000);
  if (!host) return <div>No host selected: click one in the <a href="#/hosts">graph</a> or the top talkers.</div>;
  const flows = [...stream.state.flows.values()].filter((f) => hasHost(f, host));
  const peers = [...stream.state.edges.values()].filter((e) => e.src === host || e.dst === host);
  const pairs = (top.data?.top ?? []).filter((t) => t.label.split(/[ ,>-]+/).includes(host));
  const alerts = stream.state.alerts.filter((a) => JSON.stringify(a).includes(`"${host}"`));
  return (
    <div>
      <div class="row">
        <b>Host {host}</b> <span>{bytes(stream.state.nodes.get(host) ?? 0)} in the last 60 s</span>
        <a href={href({ view: "flows" })}>its flows</a> <a href={`#/alerts?host=${encodeURIComponent(host)}`}>its alerts</a>
        <button onClick={() => go({ host: undefined, view: "overview" })}>clear host</button>
      </div>
      <div class="grid">
        <div class="panel">
          <h2>Peers (graph, last 60 s)</h2>
          <table>
            <tbody>
              {peers.map((e) => (
                <tr key={`${e.src}|${e.dst}`}>
                  <td>{e.src === host ? "to" : "from"}</td>
                  <td><a href={`#/host?host=${encodeURIComponent(e.src === host ? e.dst : e.src)}`}>{e.src === host ? e.dst : e.src}</a></td>
                  <td>{bytes(e.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="panel">
          <h2>Live flows ({flows.length})</h2>
          <Table rows={flows.slice(0, 50)} cols={["uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "conn_state"]} />
        </div>
        <div class="panel">
          <h2>Top pairs with this host (live)</h2>
          {top.err && <div class="error">{top.err}</div>}
          <Table rows={pairs} cols={["label", "bytes", "packets", "flows"]} />
        </div>
        <div class="panel">
          <h2>Active alerts ({alerts.length})</h2>
          {alerts.map((a, i) => (
            <div key={i}>{utc(Number(a.ts ?? a.first ?? NaN))} {cell(a.detector)} {cell(a.summary)}</div>
          ))}
        </div>
      </div>
    </div>
  );
}
