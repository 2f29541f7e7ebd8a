// bpf.ts - the filter builder's rows as a tcpdump (BPF) expression. Every value is validated
// here so that nothing a user types can change the expression's structure: addresses, nets
// and ports are parsed, never passed through.

export type RowKind = "host" | "net" | "port" | "proto";
export type Direction = "any" | "src" | "dst";

export interface FilterRow {
  kind: RowKind;
  value: string;
  dir: Direction;
  negate?: boolean;
}

export const PROTOCOLS = ["tcp", "udp", "icmp", "icmp6", "ip", "ip6", "arp"] as const;

function ipv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}

function ipv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return false;
  const dbl = s.split("::");
  if (dbl.length > 2) return false;
  let tail = s;
  let groups = 0;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    if (!ipv4(v4[1])) return false;
    groups += 2;
    tail = s.slice(0, -v4[1].length);
    if (tail.endsWith(":") && !tail.endsWith("::")) tail = tail.slice(0, -1);
  }
  const parts = tail.split(":").filter((p, i, a) => !(p === "" && (i === 0 || i === a.length - 1 || dbl.length === 2)));
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
    groups++;
  }
  return dbl.length === 2 ? groups < 8 : groups === 8;
}

export function isAddress(s: string): boolean {
  return ipv4(s) || ipv6(s);
}

/** "10.0.0.0/8", "2001:db8::/32" */
export function isNet(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const len = Number(m[2]);
  if (ipv4(m[1])) return len <= 32;
  if (ipv6(m[1])) return len <= 128;
  return false;
}

/** "443" or a range "1000-2000" */
export function isPort(s: string): boolean {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return false;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  return a <= 65535 && b <= 65535 && a <= b;
}

/** null when the row is valid, else what is wrong with it */
export function rowError(r: FilterRow): string | null {
  const v = r.value.trim();
  if (v === "") return `${r.kind}: a value is needed`;
  switch (r.kind) {
    case "host":
      return isAddress(v) ? null : `host: '${v}' is not an IPv4 or IPv6 address`;
    case "net":
      return isNet(v) ? null : `net: '${v}' is not ADDRESS/PREFIX`;
    case "port":
      return isPort(v) ? null : `port: '${v}' is not a port (0-65535) or range (A-B)`;
    case "proto":
      return (PROTOCOLS as readonly string[]).includes(v) ? null : `protocol: '${v}' is not one of ${PROTOCOLS.join(", ")}`;
  }
}

function term(r: FilterRow): string {
  const v = r.value.trim();
  const dir = r.dir === "any" || r.kind === "proto" ? "" : `${r.dir} `;
  let t: string;
  switch (r.kind) {
    case "host":
      t = `${dir}host ${v}`;
      break;
    case "net":
      t = `${dir}net ${v}`;
      break;
    case "port":
      t = v.includes("-") ? `${dir}portrange ${v}` : `${dir}port ${v}`;
      break;
    case "proto":
      t = v;
      break;
  }
  return r.negate ? `not ${t}` : t;
}

/** Rows of the same kind are alternatives (or), kinds are all required (and). */
export function rowsToBpf(rows: FilterRow[]): { bpf: string; errors: string[] } {
  const errors = rows.map(rowError).filter((e): e is string => e !== null);
  if (errors.length) return { bpf: "", errors };
  const byKind = new Map<RowKind, string[]>();
  for (const r of rows) {
    const list = byKind.get(r.kind) ?? [];
    list.push(term(r));
    byKind.set(r.kind, list);
  }
  const groups = [...byKind.values()].map((ts) => (ts.length === 1 ? ts[0] : `(${ts.join(" or ")})`));
  return { bpf: groups.join(" and "), errors: [] };
}

/** A capture filter's dry run (GET /api/v1/agents/{id}/filter_dryrun). */
export interface DryRun {
  agent: string;
  bpf: string;
  /** "ring": every frame the agent's ring holds; "flows": an older agent, the frames of its recent live flows */
  scope?: "ring" | "flows";
  /** not every answer came in time: the counts cover part of what was asked */
  truncated?: boolean;
  flows: number;
  answered: number;
  packets: number;
  kept: number;
}

/** The dry run in a sentence, saying what the counts cover. */
export function dryRunText(r: DryRun): string {
  const head = `dry run on ${r.agent}: keeps ${r.kept} of ${r.packets} packets`;
  const part = r.truncated ? ", not all of them answered in time" : "";
  if (r.scope === "ring") return `${head} (the agent's whole ring${part})`;
  return `${head} (recent live flows only: ${r.answered} of ${r.flows} answered; the agent predates whole-ring dry runs${part})`;
}
