// format.ts - numbers for people: bytes, rates, durations, times.

const UNITS = ["", "k", "M", "G", "T", "P"];

/** 1234567 -> "1.23 M" (SI, 3 significant digits); null/NaN -> "-" */
export function si(v: number | null | undefined, unit = ""): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  let x = Math.abs(v);
  let i = 0;
  while (x >= 999.5 && i < UNITS.length - 1) {
    x /= 1000;
    i++;
  }
  const digits = i === 0 && Number.isInteger(x) ? 0 : x >= 100 ? 0 : x >= 10 ? 1 : 2;
  const s = (v < 0 ? "-" : "") + x.toFixed(digits);
  return UNITS[i] || unit ? `${s} ${UNITS[i]}${unit}` : s;
}

export function bytes(v: number | null | undefined): string {
  return si(v, "B");
}

export function bps(v: number | null | undefined): string {
  return si(v, "bit/s");
}

export function pps(v: number | null | undefined): string {
  return si(v, "pkt/s");
}

/** seconds -> "850 ms", "12.3 s", "4m 05s", "2h 03m" */
export function duration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec) || sec < 0) return "-";
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 60) return `${sec.toFixed(1)} s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, "0");
  if (sec < 3600) return `${Math.floor(sec / 60)}m ${pad(sec % 60)}s`;
  return `${Math.floor(sec / 3600)}h ${pad((sec % 3600) / 60)}m`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  return v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`;
}

/** unix seconds -> "2026-12-05 16:01:11" UTC */
export function utc(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return "-";
  return new Date(sec * 1000).toISOString().replace("T", " ").slice(0, 19);
}

/** any JSON value as text for a table cell (objects as compact JSON) */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
