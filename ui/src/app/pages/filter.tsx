// filter.tsx - the filter builder: rows (host, net, port, protocol, direction) make a BPF
// expression; it can be tried against an agent's ring (filter_dryrun) and applied to the
// stream. The collector's and libpcap's errors are shown verbatim.

import { useState } from "preact/hooks";
import { apiGet } from "../api";
import { rowsToBpf, dryRunText, PROTOCOLS, type DryRun, type FilterRow, type RowKind, type Direction } from "../bpf";
import { go, useRoute, useStream } from "../hooks";

export function FilterPage() {
  const stream = useStream();
  const route = useRoute();
  const [rows, setRows] = useState<FilterRow[]>([{ kind: "host", value: "", dir: "any" }]);
  const [raw, setRaw] = useState<string | null>(null);
  const [agent, setAgent] = useState("");
  const [dry, setDry] = useState<{ r: DryRun | null; err: string | null; busy: boolean }>({ r: null, err: null, busy: false });
  const built = rowsToBpf(rows.filter((r) => r.value.trim() !== "" || r.kind === "proto"));
  const bpf = raw ?? built.bpf;
  const set = (i: number, patch: Partial<FilterRow>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const agents = stream.state.agents;
  const apply = (expr: string) => {
    stream.setFilter(expr);
    go({ bpf: expr || undefined });
  };
  const dryRun = () => {
    const id = agent || agents[0]?.id;
    if (!id) {
      setDry({ r: null, err: "no agent to try the filter on", busy: false });
      return;
    }
    setDry({ r: null, err: null, busy: true });
    apiGet<DryRun>(`agents/${encodeURIComponent(id)}/filter_dryrun`, { bpf })
      .then((r) => setDry({ r, err: null, busy: false }))
      .catch((e: Error) => setDry({ r: null, err: e.message, busy: false }));
  };
  const err = stream.errors.get("filter");
  return (
    <div class="panel">
      <h2>Filter builder</h2>
      <p class="dim">Rows of one kind are alternatives (or); different kinds are all required (and).</p>
      {rows.map((r, i) => (
        <div class="row" key={i}>
          <select value={r.kind} onChange={(e) => set(i, { kind: (e.target as HTMLSelectElement).value as RowKind, value: "" })}>
            <option value="host">host</option>
            <option value="net">net</option>
            <option value="port">port</option>
            <option value="proto">protocol</option>
          </select>
          {r.kind !== "proto" && (
            <select value={r.dir} onChange={(e) => set(i, { dir: (e.target as HTMLSelectElement).value as Direction })}>
              <option value="any">either direction</option>
              <option value="src">source</option>
              <option value="dst">destination</option>
            </select>
          )}
          {r.kind === "proto" ? (
            <select value={r.value} onChange={(e) => set(i, { value: (e.target as HTMLSelectElement).value })}>
              <option value="">(choose)</option>
              {PROTOCOLS.map((p) => (
                <option key={p} value={p}>{p}</option>
              ))}
            </select>
          ) : (
            <input value={r.value} placeholder={r.kind === "host" ? "10.0.0.1" : r.kind === "net" ? "10.0.0.0/8" : "443 or 1000-2000"} onInput={(e) => set(i, { value: (e.target as HTMLInputElement).value })} />
          )}
          <label><input type="checkbox" checked={!!r.negate} onChange={(e) => set(i, { negate: (e.target as HTMLInputElement).checked })} /> not</label>
          <button onClick={() => setRows(rows.filter((_, j) => j !== i))}>remove</button>
        </div>
      ))}
      <div class="row">
        <button onClick={() => setRows([...rows, { kind: "host", value: "", dir: "any" }])}>add row</button>
      </div>
      {built.errors.map((e) => (
        <div class="error" key={e}>{e}</div>
      ))}
      <div class="row">
        <span class="dim">expression</span>
        <input size={70} value={bpf} data-testid="bpf" onInput={(e) => setRaw((e.target as HTMLInputElement).value)} />
        {raw !== null && <button onClick={() => setRaw(null)}>back to the rows</button>}
      </div>
      <div class="row">
        <select value={agent} onChange={(e) => setAgent((e.target as HTMLSelectElement).value)}>
          {agents.map((a) => (
            <option key={a.id} value={a.id}>{a.id}</option>
          ))}
        </select>
        <button onClick={dryRun} disabled={dry.busy || (raw === null && built.errors.length > 0)} data-testid="dryrun">
          {dry.busy ? "trying (up to 6 s)..." : "dry run on the agent's whole ring"}
        </button>
        <button onClick={() => apply(bpf)} disabled={raw === null && built.errors.length > 0} data-testid="apply">apply to the stream</button>
        <button onClick={() => apply("")}>clear</button>
      </div>
      {dry.r && (
        <div data-testid="dryrun-result">
          {dryRunText(dry.r)}
        </div>
      )}
      {dry.err && <div class="error" data-testid="dryrun-error">{dry.err}</div>}
      <div class="row">
        active stream filter: <code data-testid="active-bpf">{stream.filter || "(none)"}</code>
        {route.bpf !== undefined && route.bpf !== stream.filter && <span class="dim">(permalink: {route.bpf})</span>}
      </div>
      {err !== undefined && <div class="error" data-testid="filter-error">{err}</div>}
    </div>
  );
}
