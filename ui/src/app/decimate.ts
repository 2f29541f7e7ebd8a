// decimate.ts - fewer points for a chart than it has pixels to draw them on, spikes kept.
//
// A live chart may hold tens of thousands of points per series on a canvas a thousand pixels
// wide: uPlot would stroke every one of them at every redraw. decimate() cuts the x range into
// `buckets` equal spans (about one per pixel) and keeps, per span and per series, the smallest
// and the largest value, in the order they occurred: a one-sample spike still reaches its
// height, and the line drawn through the kept points covers the same pixels. All series share
// the x column (uPlot's aligned data), so each span yields two x values (its first and its last
// sample's) and each series puts its earlier extreme at the first, its later at the second.

export type Column = ArrayLike<number | null>;

/**
 * The points of `x` (ascending) and `ys` (each as long as `x`) reduced to at most 2 per bucket
 * of the x range; `null` values are skipped, a bucket where a series has none stays `null` (a
 * gap). Data of no more than 2 * buckets points come back as they are (the same arrays). The
 * result is new arrays owned by the caller; the inputs are not changed.
 */
export function decimate(x: ArrayLike<number>, ys: readonly Column[], buckets: number): [ArrayLike<number>, ...Column[]] {
  const n = x.length;
  const nb = Math.max(1, Math.floor(buckets));
  if (n <= 2 * nb) return [x, ...ys];
  // the buckets' first indexes (non-empty buckets only), then n
  const x0 = x[0];
  const span = x[n - 1] - x0;
  const starts: number[] = [];
  let cur = -1;
  for (let i = 0; i < n; i++) {
    const b = span > 0 ? Math.min(nb - 1, Math.floor(((x[i] - x0) / span) * nb)) : 0;
    if (b !== cur) {
      starts.push(i);
      cur = b;
    }
  }
  starts.push(n);
  const ox: number[] = [];
  for (let k = 0; k + 1 < starts.length; k++) {
    const first = starts[k];
    const last = starts[k + 1] - 1;
    ox.push(x[first]);
    if (last !== first) ox.push(x[last]);
  }
  // series by series (each one's values read in order), bucket by bucket
  const out = ys.map((y) => {
    const o: (number | null)[] = [];
    for (let k = 0; k + 1 < starts.length; k++) {
      const first = starts[k];
      const end = starts[k + 1];
      let lo = 0;
      let hi = 0;
      let loAt = -1;
      let hiAt = -1;
      for (let i = first; i < end; i++) {
        const v = y[i];
        if (v === null || v === undefined || v !== v) continue; // null, NaN: no value
        if (loAt < 0 || v < lo) {
          lo = v;
          loAt = i;
        }
        if (hiAt < 0 || v > hi) {
          hi = v;
          hiAt = i;
        }
      }
      const two = end - 1 !== first;
      if (loAt < 0) {
        o.push(null);
        if (two) o.push(null);
      } else if (!two) {
        o.push(lo);
      } else if (loAt <= hiAt) {
        o.push(lo, hi);
      } else {
        o.push(hi, lo);
      }
    }
    return o;
  });
  return [ox, ...out];
}
