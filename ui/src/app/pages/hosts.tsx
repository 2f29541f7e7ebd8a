// hosts.tsx - the host graph: sigma.js over a graphology graph, laid out by ForceAtlas2 in a
// Web Worker; nodes sized by bytes, edges by bytes. A click on a host sets the global host
// filter (every panel narrows to it).

import { useEffect, useRef } from "preact/hooks";
import Graph from "graphology";
import Sigma from "sigma";
import { go, useRoute, useStream } from "../hooks";
import { bytes } from "../format";
import type { LayoutAnswer, LayoutRequest } from "../fa2_worker";

function scale(v: number, max: number, lo: number, hi: number): number {
  if (max <= 0) return lo;
  return lo + (hi - lo) * Math.sqrt(Math.max(0, v) / max);
}

export function Hosts() {
  const stream = useStream();
  const route = useRoute();
  const el = useRef<HTMLDivElement>(null);
  const ctx = useRef<{ g: Graph; sigma: Sigma | null; worker: Worker; busy: boolean; err?: string } | null>(null);

  useEffect(() => {
    const g = new Graph({ type: "directed", multi: false });
    const worker = new Worker("fa2_worker.js");
    const c: { g: Graph; sigma: Sigma | null; worker: Worker; busy: boolean; err?: string } = { g, sigma: null, worker, busy: false };
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
      for (const [id, p] of Object.entries(ev.data.positions)) if (g.hasNode(id)) g.mergeNodeAttributes(id, p);
    };
    const timer = setInterval(() => {
      if (c.busy || g.order === 0) return;
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

  // the stream's graph into graphology: add, update, remove
  const c = ctx.current;
  if (c) {
    const { g } = c;
    const st = stream.state;
    let maxN = 0;
    for (const b of st.nodes.values()) maxN = Math.max(maxN, b);
    let maxE = 0;
    for (const e of st.edges.values()) maxE = Math.max(maxE, e.bytes);
    for (const id of g.nodes()) if (!st.nodes.has(id)) g.dropNode(id);
    const sel = route.host;
    const neighbours = new Set<string>();
    if (sel) for (const e of st.edges.values()) if (e.src === sel || e.dst === sel) neighbours.add(e.src === sel ? e.dst : e.src);
    for (const [id, b] of st.nodes) {
      const attrs = {
        size: scale(b, maxN, 3, 18),
        label: id,
        bytes: b,
        color: id === sel ? "#ffb347" : sel && !neighbours.has(id) ? "#33404c" : "#4aa3ff",
      };
      if (g.hasNode(id)) g.mergeNodeAttributes(id, attrs);
      else g.addNode(id, { ...attrs, x: Math.random() * 100, y: Math.random() * 100 });
    }
    for (const e of g.edges()) {
      const [s, t] = g.extremities(e);
      if (!st.edges.has(`${s}|${t}`)) g.dropEdge(e);
    }
    for (const e of st.edges.values()) {
      if (!g.hasNode(e.src) || !g.hasNode(e.dst) || e.src === e.dst) continue;
      const attrs = { size: scale(e.bytes, maxE, 0.5, 6), weightRaw: Math.max(1, Math.log10(1 + e.bytes)), color: "#3a4b5c" };
      if (g.hasEdge(e.src, e.dst)) g.mergeEdgeAttributes(e.src, e.dst, attrs);
      else g.addDirectedEdge(e.src, e.dst, attrs);
    }
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
