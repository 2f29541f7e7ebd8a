// hosts.tsx - the host graph: sigma.js over a graphology graph, laid out by ForceAtlas2 in a
// Web Worker; nodes sized by bytes, edges by bytes. A click on a host sets the global host
// filter (every panel narrows to it). The graph is touched only on frames that changed it and
// the layout rests once settled (graph.ts).

import { useEffect, useRef } from "preact/hooks";
import Graph from "graphology";
import Sigma from "sigma";
import { go, useRoute, useStream } from "../hooks";
import { bytes } from "../format";
import { LayoutPacer, layoutMotion, syncGraph, type Positions } from "../graph";
import type { LayoutAnswer, LayoutRequest } from "../fa2_worker";
import type { LiveState } from "../state";

interface Ctx {
  g: Graph;
  sigma: Sigma | null;
  worker: Worker;
  busy: boolean;
  pacer: LayoutPacer;
  synced: { state: LiveState | null; version: number; host: string | undefined }; // what g was last brought to
  err?: string;
}

export function Hosts() {
  const stream = useStream();
  const route = useRoute();
  const el = useRef<HTMLDivElement>(null);
  const ctx = useRef<Ctx | null>(null);

  useEffect(() => {
    const g = new Graph({ type: "directed", multi: false });
    const worker = new Worker("fa2_worker.js");
    const c: Ctx = { g, sigma: null, worker, busy: false, pacer: new LayoutPacer(), synced: { state: null, version: 0, host: undefined } };
    ctx.current = c;
    try {
      c.sigma = new Sigma(g, el.current!, { renderEdgeLabels: false, defaultEdgeType: "arrow", labelColor: { color: "#d8dee6" } });
      c.sigma.on("clickNode", ({ node }) => go({ host: node }));
      c.sigma.on("clickStage", () => go({ host: undefined }));
      // the browser test finds a node's place on the screen through this
      Object.defineProperty(el.current!, "sigma", { value: c.sigma, configurable: true });
    } catch (e) {
      c.err = `the graph needs WebGL: ${(e as Error).message}`;
    }
    worker.onmessage = (ev: MessageEvent<LayoutAnswer>) => {
      c.busy = false;
      const before: Positions = {};
      g.forEachNode((id, a) => {
        before[id] = { x: a.x as number, y: a.y as number };
      });
      c.pacer.round(layoutMotion(before, ev.data.positions));
      for (const [id, p] of Object.entries(ev.data.positions)) if (g.hasNode(id)) g.mergeNodeAttributes(id, p);
    };
    const timer = setInterval(() => {
      if (c.busy || g.order === 0 || !c.pacer.running) return;
      c.busy = true;
      const req: LayoutRequest = {
        nodes: g.mapNodes((id, a) => ({ id, x: a.x, y: a.y, size: a.size })),
        edges: g.mapEdges((_e, a, s, t) => ({ src: s, dst: t, weight: a.weightRaw })),
        iterations: 30,
      };
      worker.postMessage(req);
    }, 400);
    return () => {
      clearInterval(timer);
      worker.terminate();
      c.sigma?.kill();
      ctx.current = null;
    };
  }, []);

  // the stream's graph into graphology, on frames that changed it (or the selection)
  const c = ctx.current;
  const st = stream.state; // a new object after a reconnection
  if (c && (c.synced.state !== st || c.synced.version !== st.graphVersion || c.synced.host !== route.host)) {
    c.synced = { state: st, version: st.graphVersion, host: route.host };
    if (syncGraph(c.g, stream.state, route.host)) c.pacer.wake();
  }
  const sel = route.host;
  return (
    <div>
      <div class="row">
        <span>
          {stream.state.nodes.size} hosts, {stream.state.edges.size} edges (last 60 s). Click a host to filter every panel to it.
        </span>
        {sel && (
          <span class="chip">
            host {sel} ({bytes(stream.state.nodes.get(sel) ?? 0)}) <a href={`#/host?host=${encodeURIComponent(sel)}`}>detail</a>
          </span>
        )}
      </div>
      {c?.err && <div class="error">{c.err}</div>}
      <div id="graph" ref={el} />
    </div>
  );
}
