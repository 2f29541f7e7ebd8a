// hooks.ts - the app's shared objects (the stream, the route) as Preact hooks.

import { useEffect, useState } from "preact/hooks";
import { formatHash, parseHash, type Route } from "./route";
import type { Stream } from "./stream";

let theStream: Stream | null = null;

export function setStream(s: Stream): void {
  theStream = s;
}

export function getStream(): Stream {
  if (!theStream) throw new Error("no stream");
  return theStream;
}

/** Re-renders the caller at most once per animation frame when the stream has news. */
export function useStream(): Stream {
  const s = getStream();
  const [, setTick] = useState(0);
  useEffect(() => {
    let queued = false;
    return s.subscribe(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        setTick((t) => t + 1);
      });
    });
  }, [s]);
  return s;
}

export function useRoute(): Route {
  const [r, setR] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setR(parseHash(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return r;
}

/** Navigates to a route built from the current one with `patch` applied. */
export function go(patch: Partial<Route>): void {
  const next = { ...parseHash(location.hash), ...patch };
  for (const k of Object.keys(patch) as (keyof Route)[]) if (patch[k] === undefined) delete next[k];
  location.hash = formatHash(next);
}

export function href(patch: Partial<Route>): string {
  const next = { ...parseHash(location.hash), ...patch };
  for (const k of Object.keys(patch) as (keyof Route)[]) if (patch[k] === undefined) delete next[k];
  return formatHash(next);
}
