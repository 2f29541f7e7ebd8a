import { test } from "node:test";
import assert from "node:assert/strict";
import Graph from "graphology";
import { LayoutPacer, layoutMotion, syncGraph } from "../src/app/graph";
import { applyFrame, emptyState, type StateFrame } from "../src/app/state";

const frame = (graph: StateFrame["graph"]): StateFrame => ({ type: "state", ts: 1e18, seq: 1, graph });

test("graphVersion moves only on frames whose graph delta changes something", () => {
  const s = emptyState();
  applyFrame(s, frame({ nodes: [{ id: "a", bytes: 1 }], edges: [], full: true }));
  assert.equal(s.graphVersion, 1);
  applyFrame(s, frame({ nodes: [], edges: [], removed_nodes: [], removed_edges: [] }));
  applyFrame(s, frame(undefined));
  assert.equal(s.graphVersion, 1);
  assert.equal(s.version, 3);
  applyFrame(s, frame({ nodes: [{ id: "a", bytes: 2 }] }));
  assert.equal(s.graphVersion, 2);
  applyFrame(s, frame({ removed_nodes: ["a"] }));
  assert.equal(s.graphVersion, 3);
  applyFrame(s, frame({ full: true }));
  assert.equal(s.graphVersion, 4);
});

test("syncGraph: true when nodes or edges come or go, false for new sizes only", () => {
  const s = emptyState();
  const g = new Graph({ type: "directed", multi: false });
  applyFrame(s, frame({ nodes: [{ id: "a", bytes: 10 }, { id: "b", bytes: 40 }], edges: [{ src: "a", dst: "b", bytes: 5 }], full: true }));
  assert.equal(syncGraph(g, s, undefined), true);
  assert.equal(g.order, 2);
  assert.equal(g.size, 1);
  assert.equal(g.getNodeAttribute("b", "size"), 18); // the largest
  applyFrame(s, frame({ nodes: [{ id: "a", bytes: 400 }] }));
  assert.equal(syncGraph(g, s, undefined), false);
  assert.equal(g.getNodeAttribute("a", "size"), 18);
  assert.equal(syncGraph(g, s, "a"), false);
  assert.equal(g.getNodeAttribute("a", "color"), "#ffb347");
  applyFrame(s, frame({ removed_edges: [["a", "b"]] }));
  assert.equal(syncGraph(g, s, undefined), true);
  assert.equal(g.size, 0);
  applyFrame(s, frame({ removed_nodes: ["b"] }));
  assert.equal(syncGraph(g, s, undefined), true);
  assert.deepEqual(g.nodes(), ["a"]);
});

test("layoutMotion: mean move as a fraction of the extent", () => {
  const before = { a: { x: 0, y: 0 }, b: { x: 100, y: 0 } };
  assert.equal(layoutMotion(before, before), 0);
  const after = { a: { x: 1, y: 0 }, b: { x: 101, y: 0 } };
  assert.equal(layoutMotion(before, after), 0.01);
  assert.equal(layoutMotion({}, after), 0); // nothing to compare
  assert.equal(layoutMotion(before, { a: { x: 5, y: 5 } }), 0); // a single point has no extent
});

test("LayoutPacer: rests after calm rounds, a busy round restarts the count, wake() resumes", () => {
  const p = new LayoutPacer(0.01, 3);
  assert.equal(p.running, true);
  p.round(0.001);
  p.round(0.001);
  p.round(0.5);
  p.round(0.001);
  p.round(0.001);
  assert.equal(p.running, true);
  p.round(0.001);
  assert.equal(p.running, false);
  p.wake();
  assert.equal(p.running, true);
});
