// fa2_worker.ts - ForceAtlas2 off the main thread. The page posts the graph (nodes with their
// current positions and sizes, edges with weights) and gets the positions after a few
// iterations back; it posts again while the layout should go on. (The package's own worker
// builds itself from a blob: URL, which the dashboard's CSP does not allow.)

import Graph from "graphology";
import forceAtlas2 from "graphology-layout-forceatlas2";

export interface LayoutRequest {
  nodes: { id: string; x: number; y: number; size: number }[];
  edges: { src: string; dst: string; weight: number }[];
  iterations: number;
}

export interface LayoutAnswer {
  positions: Record<string, { x: number; y: number }>;
}

self.onmessage = (ev: MessageEvent<LayoutRequest>) => {
  const { nodes, edges, iterations } = ev.data;
  const g = new Graph({ type: "directed", multi: false, allowSelfLoops: false });
  for (const n of nodes) g.addNode(n.id, { x: n.x, y: n.y, size: n.size });
  for (const e of edges) if (g.hasNode(e.src) && g.hasNode(e.dst) && e.src !== e.dst && !g.hasEdge(e.src, e.dst)) g.addEdge(e.src, e.dst, { weight: e.weight });
  if (g.order > 0) {
    const settings = forceAtlas2.inferSettings(g);
    forceAtlas2.assign(g, { iterations, settings: { ...settings, barnesHutOptimize: g.order > 300, adjustSizes: false }, getEdgeWeight: "weight" });
  }
  const positions: LayoutAnswer["positions"] = {};
  g.forEachNode((id, a) => {
    positions[id] = { x: a.x as number, y: a.y as number };
  });
  (self as unknown as Worker).postMessage({ positions } satisfies LayoutAnswer);
};
