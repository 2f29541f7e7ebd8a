// route.ts - the location hash as the dashboard's permalink: the view, the filter, the global
// host and the time range, e.g. #/flows?host=10.0.0.1&bpf=tcp%20port%2080&from=-15m&uid=C...

export const VIEWS = ["overview", "hosts", "flows", "filter", "alerts", "agents", "host", "flow", "inspector"] as const;
export type View = (typeof VIEWS)[number];

export interface Route {
  view: View;
  host?: string; // the global host filter (every panel)
  bpf?: string; // the stream filter
  from?: string; // time range start: "-15m", unix seconds or RFC 3339; absent = live
  to?: string;
  uid?: string; // flow detail / inspector
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, "");
  const q = h.indexOf("?");
  const path = (q < 0 ? h : h.slice(0, q)).replace(/^\/+|\/+$/g, "");
  const params = new URLSearchParams(q < 0 ? "" : h.slice(q + 1));
  const view = (VIEWS as readonly string[]).includes(path) ? (path as View) : "overview";
  const r: Route = { view };
  for (const k of ["host", "bpf", "from", "to", "uid"] as const) {
    const v = params.get(k);
    if (v !== null && v !== "") r[k] = v;
  }
  return r;
}

export function formatHash(r: Route): string {
  const params = new URLSearchParams();
  for (const k of ["host", "bpf", "from", "to", "uid"] as const) {
    const v = r[k];
    if (v !== undefined && v !== "") params.set(k, v);
  }
  const qs = params.toString();
  return `#/${r.view}${qs ? `?${qs}` : ""}`;
}

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A time as unix seconds: "-15m" (relative to nowSec), "1733400000", "2026-12-05T10:00:00Z".
 * null when it is none of these.
 */
export function parseTime(s: string, nowSec: number): number | null {
  const t = s.trim();
  let m = /^-(\d+)([smhd])$/.exec(t);
  if (m) return nowSec - Number(m[1]) * UNIT[m[2]];
  if (/^\d{1,12}$/.test(t)) return Number(t);
  m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(t);
  if (m) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
  }
  return null;
}

/** The range a route asks for, or null when it is live (no `from`) or invalid. */
export function timeRange(r: Route, nowSec: number): { from: number; to: number } | null {
  if (!r.from) return null;
  const from = parseTime(r.from, nowSec);
  const to = r.to ? parseTime(r.to, nowSec) : nowSec;
  if (from === null || to === null || from >= to) return null;
  return { from, to };
}

/** The series step the history API should use for a range: about 600 points at most. */
export function stepFor(range: { from: number; to: number }): number {
  const span = range.to - range.from;
  if (span <= 600) return 1;
  if (span <= 36000) return 60;
  return 3600;
}
