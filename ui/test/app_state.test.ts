import { test } from "node:test";
import assert from "node:assert/strict";
import { addSample, applyFrame, emptySeries, emptyState, type StateFrame } from "../src/app/state";

const frame = (p: Partial<StateFrame>): StateFrame => ({ type: "state", ts: 1e18, seq: 1, ...p });
const flow = (uid: string, bytes = 0) => ({ uid, orig_wire_bytes: bytes });

test("flows: full replaces, deltas upsert and remove, empty deltas keep", () => {
  const s = emptyState();
  applyFrame(s, frame({ flows: { upsert: [flow("A"), flow("B")], removed: [], full: true, total: 2 } }));
  assert.deepEqual([...s.flows.keys()].sort(), ["A", "B"]);
  applyFrame(s, frame({ flows: { upsert: [flow("C"), flow("A", 99)], removed: ["B"], full: false, total: 2 } }));
  assert.deepEqual([...s.flows.keys()].sort(), ["A", "C"]);
  assert.equal(s.flows.get("A")!.orig_wire_bytes, 99);
  applyFrame(s, frame({ flows: { upsert: [], removed: [], full: false, total: 2 } }));
  assert.equal(s.flows.size, 2);
  assert.equal(s.flowsTotal, 2);
  applyFrame(s, frame({ flows: { upsert: [flow("Z")], removed: [], full: true, total: 1 } }));
  assert.deepEqual([...s.flows.keys()], ["Z"]);
  assert.equal(s.flowsTotal, 1);
});

test("graph: removed nodes take their edges, removed edges, full", () => {
  const s = emptyState();
  applyFrame(s, frame({
    graph: {
      nodes: [{ id: "a", bytes: 1 }, { id: "b", bytes: 2 }, { id: "c", bytes: 3 }],
      edges: [{ src: "a", dst: "b", bytes: 5 }, { src: "b", dst: "c", bytes: 6 }, { src: "a", dst: "c", bytes: 7 }],
      full: true,
    },
  }));
  assert.equal(s.edges.size, 3);
  applyFrame(s, frame({ graph: { nodes: [{ id: "a", bytes: 10 }], removed_nodes: ["b"], removed_edges: [["a", "c"]], full: false } }));
  assert.deepEqual([...s.nodes.entries()].sort(), [["a", 10], ["c", 3]]);
  assert.equal(s.edges.size, 0);
  applyFrame(s, frame({ graph: { nodes: [{ id: "x", bytes: 1 }], edges: [], full: true } }));
  assert.deepEqual([...s.nodes.keys()], ["x"]);
});

test("complete members replace, absent ones stay; version counts frames", () => {
  const s = emptyState();
  applyFrame(s, frame({ alerts: [{ id: 1 }], top_talkers: [{ host: "h", bytes: 1, pkts: 1, flows: 1 }], skipped: 3 }));
  applyFrame(s, frame({ alerts: [], seq: 2 }));
  assert.deepEqual(s.alerts, []);
  assert.equal(s.topTalkers.length, 1);
  assert.equal(s.skipped, 3);
  assert.equal(s.seq, 2);
  assert.equal(s.version, 2);
});

test("series: one point per second, the last frame of a second wins, bounded", () => {
  const s = emptySeries();
  const g = (bps: number) => ({ bps, pps: 1, flows_active: 0, new_flows_ps: 0, rtt_ms_p50: null, rtt_ms_p95: null, retrans_ps: 0 });
  addSample(s, 100.2e9, g(1), 3);
  addSample(s, 100.9e9, g(2), 3);
  addSample(s, 101.0e9, g(3), 3);
  addSample(s, 99e9, g(9), 3); // backwards: ignored
  addSample(s, 102e9, g(4), 3);
  addSample(s, 103e9, g(5), 3);
  assert.deepEqual(s.t, [101, 102, 103]);
  assert.deepEqual(s.bps, [3, 4, 5]);
});
