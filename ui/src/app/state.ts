// state.ts - the dashboard's picture of the collector, built from the stream's frames as
// docs/stream.md says: graph and flows are deltas against what this client was sent before
// (`full:true` replaces), everything else is complete in each frame.

export type Flow = Record<string, unknown> & { uid: string };

export interface Agent {
  id: string;
  connected: boolean;
  bps: number;
  pps: number;
  queue_depth: number;
  kernel_drops: number;
  lost_batches: number;
  clock_offset_ms: number | null;
  flows_active: number;
}

export interface Global {
  bps: number;
  pps: number;
  flows_active: number;
  new_flows_ps: number;
  rtt_ms_p50: number | null;
  rtt_ms_p95: number | null;
  retrans_ps: number;
}

export interface Group {
  bytes: number;
  pkts: number;
  flows: number;
}

export interface StateFrame {
  type: "state";
  ts: number;
  seq: number;
  skipped?: number;
  global?: Global;
  agents?: Agent[];
  top_talkers?: (Group & { host: string })[];
  protocols?: (Group & { name: string })[];
  graph?: {
    nodes?: { id: string; bytes: number }[];
    edges?: { src: string; dst: string; bytes: number }[];
    removed_nodes?: string[];
    removed_edges?: [string, string][];
    full?: boolean;
  };
  flows?: { upsert?: Flow[]; removed?: string[]; full?: boolean; total?: number };
  alerts?: Record<string, unknown>[];
}

export interface LiveState {
  ts: number; // ns of the last frame
  seq: number;
  skipped: number;
  global: Global | null;
  agents: Agent[];
  topTalkers: (Group & { host: string })[];
  protocols: (Group & { name: string })[];
  nodes: Map<string, number>; // host -> bytes
  edges: Map<string, { src: string; dst: string; bytes: number }>; // key src|dst
  flows: Map<string, Flow>;
  flowsTotal: number;
  alerts: Record<string, unknown>[];
  version: number; // bumped at every applied frame
  graphVersion: number; // bumped at every frame whose graph delta changed something
}

export function emptyState(): LiveState {
  return {
    ts: 0,
    seq: 0,
    skipped: 0,
    global: null,
    agents: [],
    topTalkers: [],
    protocols: [],
    nodes: new Map(),
    edges: new Map(),
    flows: new Map(),
    flowsTotal: 0,
    alerts: [],
    version: 0,
    graphVersion: 0,
  };
}

export function edgeKey(src: string, dst: string): string {
  return `${src}|${dst}`;
}

function graphDeltaEmpty(g: NonNullable<StateFrame["graph"]>): boolean {
  return !g.full && !g.nodes?.length && !g.edges?.length && !g.removed_nodes?.length && !g.removed_edges?.length;
}

/** Applies one state frame to `s` in place and returns it. */
export function applyFrame(s: LiveState, f: StateFrame): LiveState {
  s.ts = f.ts;
  s.seq = f.seq;
  if (f.skipped !== undefined) s.skipped = f.skipped;
  if (f.global) s.global = f.global;
  if (f.agents) s.agents = f.agents;
  if (f.top_talkers) s.topTalkers = f.top_talkers;
  if (f.protocols) s.protocols = f.protocols;
  if (f.alerts) s.alerts = f.alerts;
  const g = f.graph;
  // an empty delta (most frames) leaves graphVersion: the graph's views need not redraw
  if (g && !graphDeltaEmpty(g)) {
    s.graphVersion++;
    if (g.full) {
      s.nodes.clear();
      s.edges.clear();
    }
    for (const id of g.removed_nodes ?? []) {
      s.nodes.delete(id);
      // an edge cannot outlive one of its ends
      for (const [k, e] of s.edges) if (e.src === id || e.dst === id) s.edges.delete(k);
    }
    for (const [a, b] of g.removed_edges ?? []) s.edges.delete(edgeKey(a, b));
    for (const n of g.nodes ?? []) s.nodes.set(n.id, n.bytes);
    for (const e of g.edges ?? []) s.edges.set(edgeKey(e.src, e.dst), { src: e.src, dst: e.dst, bytes: e.bytes });
  }
  const fl = f.flows;
  if (fl) {
    if (fl.full) s.flows.clear();
    for (const uid of fl.removed ?? []) s.flows.delete(uid);
    for (const r of fl.upsert ?? []) s.flows.set(r.uid, r);
    if (fl.total !== undefined) s.flowsTotal = fl.total;
  }
  s.version++;
  return s;
}

/** The per-second samples the overview charts keep (at most `max` of them). */
export interface Series {
  t: number[]; // unix seconds
  bps: number[];
  pps: number[];
  rtt50: (number | null)[];
  rtt95: (number | null)[];
  retrans: number[];
}

export function emptySeries(): Series {
  return { t: [], bps: [], pps: [], rtt50: [], rtt95: [], retrans: [] };
}

/** Adds a frame's global numbers, one point per whole second of collector time. */
export function addSample(s: Series, tsNs: number, g: Global, max = 3600): void {
  const sec = Math.floor(tsNs / 1e9);
  const last = s.t.length - 1;
  if (last >= 0 && s.t[last] === sec) {
    s.bps[last] = g.bps;
    s.pps[last] = g.pps;
    s.rtt50[last] = g.rtt_ms_p50;
    s.rtt95[last] = g.rtt_ms_p95;
    s.retrans[last] = g.retrans_ps;
    return;
  }
  if (last >= 0 && sec < s.t[last]) return; // a clock step back: keep the series monotonic
  s.t.push(sec);
  s.bps.push(g.bps);
  s.pps.push(g.pps);
  s.rtt50.push(g.rtt_ms_p50);
  s.rtt95.push(g.rtt_ms_p95);
  s.retrans.push(g.retrans_ps);
  if (s.t.length > max) {
    const n = s.t.length - max;
    for (const a of [s.t, s.bps, s.pps, s.rtt50, s.rtt95, s.retrans]) a.splice(0, n);
  }
}
