// main.tsx - the dashboard: a Preact single-page app with hash routes (#/overview, #/hosts,
// #/flows, #/flow, #/filter, #/alerts, #/agents, #/host, #/inspector) whose query carries the
// permalink state (host, bpf, from, to, uid). Everything a capture controls (addresses, DNS
// names, HTTP hosts and URIs, user agents) is rendered as Preact text, never as markup.

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./app.css";
import { apiGet, ApiError, getToken, initToken, setToken, streamUrl } from "./api";
import { go, href, setStream, useRoute, useStream } from "./hooks";
import { Stream } from "./stream";
import { Overview } from "./pages/overview";
import { Hosts } from "./pages/hosts";
import { Flows, FlowDetail } from "./pages/flows";
import { FilterPage } from "./pages/filter";
import { Agents, Alerts, HostDetail } from "./pages/misc";
import { Inspector } from "../inspector/index";
import type { View } from "./route";

const NAV: [View, string][] = [
  ["overview", "Overview"],
  ["hosts", "Hosts"],
  ["flows", "Flows"],
  ["filter", "Filter"],
  ["alerts", "Alerts"],
  ["agents", "Agents"],
  ["inspector", "Inspector"],
];

function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [t, setT] = useState("");
  return (
    <div class="panel">
      <h2>This collector needs its API token</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(t);
          onDone();
        }}
      >
        <input type="password" value={t} onInput={(e) => setT((e.target as HTMLInputElement).value)} placeholder="http.token" autoFocus />
        <button type="submit">connect</button>
      </form>
    </div>
  );
}

function App() {
  const route = useRoute();
  const stream = useStream();
  const [needToken, setNeedToken] = useState(false);
  useEffect(() => {
    // the permalink's filter goes to the stream
    if ((route.bpf ?? "") !== stream.filter) stream.setFilter(route.bpf ?? "");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [route.bpf]);
  useEffect(() => {
    const on = () => setNeedToken(true);
    addEventListener("netscope-token", on);
    return () => removeEventListener("netscope-token", on);
  }, []);
  if (needToken)
    return (
      <TokenPrompt
        onDone={() => {
          setNeedToken(false);
          stream.close();
          void stream.connect();
        }}
      />
    );
  let page;
  switch (route.view) {
    case "hosts":
      page = <Hosts />;
      break;
    case "flows":
      page = <Flows />;
      break;
    case "flow":
      page = <FlowDetail />;
      break;
    case "filter":
      page = <FilterPage />;
      break;
    case "alerts":
      page = <Alerts />;
      break;
    case "agents":
      page = <Agents />;
      break;
    case "host":
      page = <HostDetail />;
      break;
    case "inspector":
      page = <Inspector uid={route.uid} getPackets={stream.getPackets} />;
      break;
    default:
      page = <Overview />;
  }
  const connErr = stream.errors.get("connect");
  return (
    <div>
      <header>
        <h1>NetScope</h1>
        <nav>
          {NAV.map(([v, label]) => (
            <a
              key={v}
              href={href({ view: v })}
              class={route.view === v ? "active" : ""}
              // built from the hash as it is at the click, not at the last render: a filter
              // applied since then stays in the permalink
              onClick={(e) => {
                if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
                e.preventDefault();
                go({ view: v });
              }}
            >
              {label}
            </a>
          ))}
        </nav>
        {route.host && (
          <span class="chip" data-testid="global-host">
            host {route.host} <button onClick={() => go({ host: undefined })} title="clear">x</button>
          </span>
        )}
        {stream.filter && <span class="chip">filter: {stream.filter}</span>}
        {route.from && <span class="chip">from {route.from}{route.to ? ` to ${route.to}` : ""}</span>}
        <span class={`status ${stream.status}`} data-testid="stream-status">
          {stream.status === "open" ? `live (${String(stream.hello?.collector ?? "")})` : stream.status}
          {connErr ? `: ${connErr}` : ""}
        </span>
      </header>
      <main>{page}</main>
    </div>
  );
}

async function wsUrl(): Promise<string> {
  try {
    const h = await apiGet<{ stream: string | null }>("health");
    if (!h.stream) throw new Error("the collector has no live stream (--ws off)");
    return streamUrl(h.stream, location.hostname, getToken());
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) dispatchEvent(new Event("netscope-token"));
    throw e;
  }
}

initToken();
const stream = new Stream(wsUrl);
setStream(stream);
// bench/ui_bench.mjs reads the collector-to-screen latency samples from here
Object.defineProperty(window, "netscopeStream", { value: stream });
void stream.connect();
render(<App />, document.getElementById("app")!);
