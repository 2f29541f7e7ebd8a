// api.ts - the collector's REST API (same origin) with the optional API token.

let token: string | null = null;

/** The token from ?token= in the page URL, else the one the user typed before (session). */
export function initToken(): void {
  const q = new URLSearchParams(location.search).get("token");
  token = q || sessionStorage.getItem("netscope.token");
}

export function getToken(): string | null {
  return token;
}

export function setToken(t: string): void {
  token = t;
  sessionStorage.setItem("netscope.token", t);
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/** GET /api/v1/PATH?params as JSON; the API's {"error": ...} becomes an ApiError. */
export async function apiGet<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") qs.set(k, String(v));
  const url = `/api/v1/${path}${qs.toString() ? `?${qs}` : ""}`;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(url, { headers });
  const text = await r.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(r.status, `${r.status}: ${text.slice(0, 200)}`);
  }
  if (!r.ok) {
    const e = body as { error?: string } | null;
    throw new ApiError(r.status, e?.error ?? `HTTP ${r.status}`);
  }
  return body as T;
}

/** The stream URL of /api/v1/health with a wildcard address replaced by this page's host. */
export function streamUrl(health: string, pageHost: string, tok: string | null): string {
  const u = new URL(health);
  if (u.hostname === "0.0.0.0" || u.hostname === "[::]" || u.hostname === "::") u.hostname = pageHost;
  if (tok) u.searchParams.set("token", tok);
  return u.toString();
}
