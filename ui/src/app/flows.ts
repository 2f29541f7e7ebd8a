// flows.ts - the flow table's pure logic: columns, matching, sorting.

import type { Flow } from "./state";

export interface Column {
  key: string;
  label: string;
  width: number;
  num?: boolean;
}

export const COLUMNS: Column[] = [
  { key: "id.orig_h", label: "originator", width: 150 },
  { key: "id.orig_p", label: "port", width: 60, num: true },
  { key: "id.resp_h", label: "responder", width: 150 },
  { key: "id.resp_p", label: "port", width: 60, num: true },
  { key: "proto", label: "proto", width: 60 },
  { key: "service", label: "service", width: 70 },
  { key: "conn_state", label: "state", width: 70 },
  { key: "agent", label: "agent", width: 90 },
  { key: "bytes", label: "bytes", width: 90, num: true },
  { key: "pkts", label: "pkts", width: 70, num: true },
  { key: "duration", label: "duration", width: 80, num: true },
  { key: "info", label: "info", width: 360 },
];

/**
 * What the flow carried, as text: its first HTTP request (host and URI) or DNS question from a
 * record's transactions, else a live flow's "app" (the collector's latest request or query).
 */
export function info(f: Flow): string {
  const http = Array.isArray(f.http) ? (f.http[0] as Record<string, unknown> | undefined) : undefined;
  if (http) return `${String(http.method ?? "")} ${String(http.host ?? "")}${String(http.uri ?? "")}`.trim();
  const dns = Array.isArray(f.dns) ? (f.dns[0] as Record<string, unknown> | undefined) : undefined;
  if (dns) return `${String(dns.qtype_name ?? "")} ${String(dns.query ?? "")}`.trim();
  return typeof f.app === "string" ? f.app : "";
}

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

/** The value a column shows for a flow (bytes and pkts are both directions together). */
export function value(f: Flow, key: string): unknown {
  if (key === "bytes") return num(f.orig_wire_bytes) + num(f.resp_wire_bytes);
  if (key === "pkts") return num(f.orig_pkts) + num(f.resp_pkts);
  if (key === "info") return info(f);
  return f[key];
}

export function hasHost(f: Flow, host: string): boolean {
  return f["id.orig_h"] === host || f["id.resp_h"] === host;
}

/**
 * The table's text filter: space-separated terms, all required; a term "k=v" compares column
 * k (host = either address, port = either port) exactly, a bare term matches any column.
 */
export function matches(f: Flow, query: string): boolean {
  for (const term of query.trim().split(/\s+/).filter(Boolean)) {
    const eq = term.indexOf("=");
    if (eq > 0) {
      const k = term.slice(0, eq).toLowerCase();
      const v = term.slice(eq + 1);
      let ok: boolean;
      if (k === "host") ok = hasHost(f, v);
      else if (k === "port") ok = String(f["id.orig_p"]) === v || String(f["id.resp_p"]) === v;
      else if (k === "state") ok = String(f.conn_state ?? "") === v;
      else ok = String(value(f, k) ?? "") === v;
      if (!ok) return false;
    } else {
      const t = term.toLowerCase();
      if (!COLUMNS.some((c) => String(value(f, c.key) ?? "").toLowerCase().includes(t))) return false;
    }
  }
  return true;
}

/** Sorts by a column, ties by uid (ascending either way) so that the order is stable across updates. */
export function sortFlows(flows: Flow[], key: string, desc: boolean): Flow[] {
  const col = COLUMNS.find((c) => c.key === key);
  const dir = desc ? -1 : 1;
  return flows.sort((a, b) => {
    const x = value(a, key);
    const y = value(b, key);
    let c: number;
    if (col?.num) c = num(x) - num(y);
    else c = String(x ?? "").localeCompare(String(y ?? ""), undefined, { numeric: true });
    if (c !== 0) return c * dir;
    return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
  });
}

/** The rows a virtual window shows: [first, last) for a scroll offset. */
export function windowRows(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 10): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}
