// graph.ts - the host graph's model: the stream's nodes and edges into a graphology graph
// (what sigma draws), and when the ForceAtlas2 layout may rest.
//
// Two costs are avoided here. A stream frame with no graph delta leaves the graph alone
// (LiveState.graphVersion does not move), so sigma does not redraw 2,000 nodes for nothing;
// and the layout stops once it has settled (its nodes moved less than a small fraction of the
// graph's extent for a few rounds in a row) until the set of nodes or edges changes, so an
// idle graph costs no layout round trips and no redraws either.

import type Graph from "graphology";
import type { LiveState } from "./state";

function scale(v: number, max: number, lo: number, hi: number): number {
  if (max <= 0) return lo;
  return lo + (hi - lo) * Math.sqrt(Math.max(0, v) / max);
}

/**
 * Brings `g` to the stream's graph in `st` (sizes by bytes; `sel`, the selected host, and its
 * neighbours highlighted): nodes and edges added, updated, dropped. Returns true when a node
 * or an edge was added or dropped (the layout has work again), false when only attributes
 * changed.
 */
export function syncGraph(g: Graph, st: LiveState, sel: string | undefined): boolean {
  let changed = false;
  let maxN = 0;
  for (const b of st.nodes.values()) maxN = Math.max(maxN, b);
  let maxE = 0;
  for (const e of st.edges.values()) maxE = Math.max(maxE, e.bytes);
  for (const id of g.nodes())
    if (!st.nodes.has(id)) {
      g.dropNode(id);
      changed = true;
    }
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
    else {
      g.addNode(id, { ...attrs, x: Math.random() * 100, y: Math.random() * 100 });
      changed = true;
    }
  }
  for (const e of g.edges()) {
    const [s, t] = g.extremities(e);
    if (!st.edges.has(`${s}|${t}`)) {
      g.dropEdge(e);
      changed = true;
    }
  }
  for (const e of st.edges.values()) {
    if (!g.hasNode(e.src) || !g.hasNode(e.dst) || e.src === e.dst) continue;
    const attrs = { size: scale(e.bytes, maxE, 0.5, 6), weightRaw: Math.max(1, Math.log10(1 + e.bytes)), color: "#3a4b5c" };
    if (g.hasEdge(e.src, e.dst)) g.mergeEdgeAttributes(e.src, e.dst, attrs);
    else {
      g.addDirectedEdge(e.src, e.dst, attrs);
      changed = true;
    }
  }
  return changed;
}

export type Positions = Record<string, { x: number; y: number }>;

/**
 * How far a layout round moved the nodes: the mean distance a node of `after` moved from
 * `before`, as a fraction of the larger side of `after`'s bounding box (0 for no node, or a
 * graph of no extent). Nodes missing from `before` are not counted.
 */
export function layoutMotion(before: Positions, after: Positions): number {
  let n = 0;
  let sum = 0;
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [id, p] of Object.entries(after)) {
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y);
    y1 = Math.max(y1, p.y);
    const q = before[id];
    if (!q) continue;
    sum += Math.hypot(p.x - q.x, p.y - q.y);
    n++;
  }
  const extent = Math.max(x1 - x0, y1 - y0);
  return n === 0 || !(extent > 0) ? 0 : sum / n / extent;
}

/** The layout's pace: running until it settled, woken again by a change of the graph. */
export class LayoutPacer {
  private calm = 0;
  /** `threshold`: motion under which a round counts as calm; `rounds`: calm rounds to settle */
  constructor(private threshold = 0.005, private rounds = 3) {}

  /** Whether another layout round should run. */
  get running(): boolean {
    return this.calm < this.rounds;
  }

  /** A layout round moved the nodes by `motion` (layoutMotion()). */
  round(motion: number): void {
    this.calm = motion < this.threshold ? this.calm + 1 : 0;
  }

  /** Nodes or edges were added or dropped: lay out again. */
  wake(): void {
    this.calm = 0;
  }
}
