// flows.tsx - the live flow table (virtualized, sortable, filterable, keyboard driven) and the
// flow detail (every field of the record, each agent's observation, history records).

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { apiGet } from "../api";
import { cell } from "../format";
import { COLUMNS, hasHost, matches, sortFlows, value, windowRows } from "../flows";
import { go, href, useRoute, useStream } from "../hooks";
import type { Flow } from "../state";

const ROW = 22;

/** Ended flows from the store (GET /api/v1/flows?live=exclude), refreshed every 5 s. */
function useEnded(on: boolean, host: string | undefined, bpf: string | undefined): { flows: Flow[]; err: string | null } {
  const [s, setS] = useState<{ flows: Flow[]; err: string | null }>({ flows: [], err: null });
  useEffect(() => {
    if (!on) return;
    let alive = true;
    const load = () =>
      apiGet<{ flows: Flow[] }>("flows", { live: "exclude", limit: 500, host, filter: bpf, from: "-1h" })
        .then((r) => alive && setS({ flows: r.flows, err: null }))
        .catch((e: Error) => alive && setS({ flows: [], err: e.message }));
    void load();
    const t = setInterval(load, 5000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [on, host, bpf]);
  return s;
}

export function Flows() {
  const stream = useStream();
  const route = useRoute();
  const [ended, setEnded] = useState(false);
  const hist = useEnded(ended, route.host, route.bpf);
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: "bytes", desc: true });
  const [selected, setSelected] = useState<string | null>(route.uid ?? null);
  const [scroll, setScroll] = useState(0);
  const [viewport, setViewport] = useState(600);
  const box = useRef<HTMLDivElement>(null);
  const host = route.host;
  const rows = useMemo(() => {
    let v = ended ? [...hist.flows] : [...stream.state.flows.values()];
    if (host) v = v.filter((f) => hasHost(f, host));
    if (query.trim()) v = v.filter((f) => matches(f, query));
    return sortFlows(v, sort.key, sort.desc);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ended ? hist.flows : stream.state.version, ended, host, query, sort.key, sort.desc]);

  useEffect(() => {
    if (box.current) setViewport(box.current.clientHeight);
  }, []);

  // keep the selected row in view when the keyboard moves it
  const selIndex = selected ? rows.findIndex((f) => f.uid === selected) : -1;
  const move = (d: number) => {
    if (rows.length === 0) return;
    const i = Math.min(rows.length - 1, Math.max(0, (selIndex < 0 ? -1 : selIndex) + d));
    setSelected(rows[i].uid);
    const b = box.current;
    if (b) {
      const top = i * ROW;
      const head = ROW;
      if (top < b.scrollTop) b.scrollTop = top;
      else if (top + ROW + head > b.scrollTop + b.clientHeight) b.scrollTop = top + ROW + head - b.clientHeight;
    }
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "j") move(1);
    else if (e.key === "ArrowUp" || e.key === "k") move(-1);
    else if (e.key === "PageDown") move(Math.floor(viewport / ROW));
    else if (e.key === "PageUp") move(-Math.floor(viewport / ROW));
    else if (e.key === "Home") move(-rows.length);
    else if (e.key === "End") move(rows.length);
    else if (e.key === "Enter" && selected) go({ view: "flow", uid: selected });
    else if (e.key === "i" && selected) go({ view: "inspector", uid: selected });
    else return;
    e.preventDefault();
  };
  const [first, last] = windowRows(scroll, viewport, ROW, rows.length);
  return (
    <div>
      <div class="row">
        <button class={ended ? "" : "active"} onClick={() => setEnded(false)} data-testid="flows-live">live</button>
        <button class={ended ? "active" : ""} onClick={() => setEnded(true)} data-testid="flows-ended">ended (last hour, stored)</button>
        {hist.err && ended && <span class="error">{hist.err}</span>}
        <input
          placeholder="filter: text, or host=ADDR port=N proto=tcp state=SF agent=ID"
          value={query}
          size={60}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          data-testid="flow-query"
        />
        <span class="dim" data-testid="flow-count">
          {ended
            ? `${rows.length} of ${hist.flows.length} ended flows shown`
            : `${rows.length} of ${stream.state.flows.size} live flows shown (${stream.state.flowsTotal} match the stream filter)`}
        </span>
        {host && (
          <span class="chip" data-testid="host-chip">
            host {host} <button onClick={() => go({ host: undefined })} title="clear the host filter">x</button>
          </span>
        )}
        <span class="dim">keys: up/down j/k, Enter detail, i inspector</span>
      </div>
      <div class="vt" ref={box} tabIndex={0} onKeyDown={onKey} onScroll={(e) => setScroll((e.target as HTMLElement).scrollTop)} data-testid="flow-table">
        <table>
          <colgroup>
            {COLUMNS.map((c) => (
              <col key={c.key} style={{ width: `${c.width}px` }} />
            ))}
          </colgroup>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} onClick={() => setSort({ key: c.key, desc: sort.key === c.key ? !sort.desc : !!c.num })}>
                  {c.label}
                  {sort.key === c.key ? (sort.desc ? " v" : " ^") : ""}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr style={{ height: `${first * ROW}px` }} />
            {rows.slice(first, last).map((f) => (
              <tr
                key={f.uid}
                class={f.uid === selected ? "sel" : ""}
                style={{ height: `${ROW}px` }}
                data-uid={f.uid}
                onClick={() => setSelected(f.uid)}
                onDblClick={() => go({ view: "flow", uid: f.uid })}
              >
                {COLUMNS.map((c) => (
                  <td key={c.key}>{cell(value(f, c.key))}</td>
                ))}
              </tr>
            ))}
            <tr style={{ height: `${(rows.length - last) * ROW}px` }} />
          </tbody>
        </table>
      </div>
      {selected && (
        <div class="row">
          selected <code>{selected}</code> <a href={href({ view: "flow", uid: selected })}>detail</a>{" "}
          <a href={href({ view: "inspector", uid: selected })}>packets (inspector)</a>
        </div>
      )}
    </div>
  );
}

function KV({ rec }: { rec: Record<string, unknown> }) {
  return (
    <table class="kv">
      <tbody>
        {Object.entries(rec).map(([k, v]) => (
          <tr key={k}>
            <td>{k}</td>
            <td>{typeof v === "object" && v !== null ? JSON.stringify(v, null, 1) : cell(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const TCP_KEYS = /^(history|flags_|syn_|fin_|rst_|tcp_state|rtt_|retrans_|ooo_|dup_ack|zero_win|gaps_|missed_bytes|midstream|seq_gaps)/;
const APP_KEYS = /^(http|dns|service)/;

interface Detail {
  uid: string;
  live: Flow | null;
  observations?: Record<string, unknown>[];
  history: Flow[];
}

export function FlowDetail() {
  const route = useRoute();
  const stream = useStream();
  const uid = route.uid ?? "";
  const [d, setD] = useState<{ detail: Detail | null; err: string | null }>({ detail: null, err: null });
  const liveVersion = stream.state.flows.get(uid);
  useEffect(() => {
    let alive = true;
    apiGet<Detail>(`flows/${encodeURIComponent(uid)}`)
      .then((r) => alive && setD({ detail: r, err: null }))
      .catch((e: Error) => alive && setD({ detail: null, err: e.message }));
    return () => {
      alive = false;
    };
  }, [uid, liveVersion]);
  if (!uid) return <div>No flow selected: pick one in the <a href="#/flows">flow table</a>.</div>;
  const rec = d.detail?.live ?? d.detail?.history?.[d.detail.history.length - 1] ?? stream.state.flows.get(uid) ?? null;
  const pick = (re: RegExp) => (rec ? Object.fromEntries(Object.entries(rec).filter(([k]) => re.test(k))) : {});
  return (
    <div>
      <div class="row">
        <b>Flow {uid}</b> <a href={href({ view: "inspector", uid })}>packets (inspector)</a> <a href="#/flows">back to flows</a>
        {d.err && <span class="error">{d.err}</span>}
      </div>
      {rec && (
        <div class="cols">
          <div class="panel">
            <h2>Record (every field)</h2>
            <KV rec={rec} />
          </div>
          <div>
            {rec.proto === "tcp" && (
              <div class="panel">
                <h2>TCP analysis</h2>
                <KV rec={pick(TCP_KEYS)} />
              </div>
            )}
            <div class="panel">
              <h2>Application (HTTP / DNS)</h2>
              <KV rec={pick(APP_KEYS)} />
            </div>
            {d.detail?.observations && d.detail.observations.length > 0 && (
              <div class="panel" data-testid="observations">
                <h2>Observations ({d.detail.observations.length} agent{d.detail.observations.length > 1 ? "s" : ""})</h2>
                {d.detail.observations.map((o, i) => (
                  <KV key={i} rec={o} />
                ))}
              </div>
            )}
            {d.detail && d.detail.history.length > 0 && (
              <div class="panel">
                <h2>Stored records ({d.detail.history.length})</h2>
                {d.detail.history.map((h, i) => (
                  <KV key={i} rec={h} />
                ))}
              </div>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
