import { test } from "node:test";
import assert from "node:assert/strict";
import { decimate } from "../src/app/decimate";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test("small data comes back as it is", () => {
  const x = range(10);
  const y = range(10).map((i) => i * 2);
  const [ox, oy] = decimate(x, [y], 5);
  assert.equal(ox, x);
  assert.equal(oy, y);
});

test("36,000 points onto 1,000 buckets: at most 2 per bucket, ends kept, x ascending", () => {
  const n = 36000;
  const x = range(n).map((i) => 1.7e9 + i);
  const ys = [0, 1, 2].map((s) => range(n).map((i) => Math.sin(i / 300 + s) * 100));
  const [ox, ...oy] = decimate(x, ys, 1000);
  assert.ok(ox.length <= 2000, `${ox.length} points`);
  assert.ok(ox.length >= 1000);
  assert.equal(ox[0], x[0]);
  assert.equal(ox[ox.length - 1], x[n - 1]);
  for (let i = 1; i < ox.length; i++) assert.ok(ox[i] > ox[i - 1], `x not ascending at ${i}`);
  for (const y of oy) assert.equal(y.length, ox.length);
  // every kept value is one of its series' own, and each series' extremes are kept
  for (let s = 0; s < 3; s++) {
    const own = new Set(ys[s]);
    const kept = Array.from(oy[s] as ArrayLike<number>);
    for (const v of kept) assert.ok(own.has(v));
    assert.equal(Math.max(...kept), Math.max(...ys[s]));
    assert.equal(Math.min(...kept), Math.min(...ys[s]));
  }
});

test("a one-sample spike and a one-sample dip survive, in time order", () => {
  const n = 10000;
  const x = range(n);
  const y: number[] = range(n).map(() => 5);
  y[4321] = 1000;
  y[7777] = -1000;
  const [ox, oy] = decimate(x, [y], 100);
  const vals = Array.from(oy as ArrayLike<number>);
  assert.equal(Math.max(...vals), 1000);
  assert.equal(Math.min(...vals), -1000);
  // the spike's bucket keeps 5 then 1000 or 1000 then 5 in the order they came
  const at = vals.indexOf(1000);
  assert.ok(ox[at] <= 4321 + 100 && ox[at] >= 4321 - 100, `spike at x ${ox[at]}`);
  assert.ok(vals.indexOf(1000) < vals.indexOf(-1000));
});

test("each bucket's min and max per series: two series with extremes at different places", () => {
  // 4 buckets of 10 points; series a rises, series b falls within each bucket
  const x = range(40);
  const a = range(40).map((i) => i % 10);
  const b = range(40).map((i) => 10 - (i % 10));
  const [ox, oa, ob] = decimate(x, [a, b], 4);
  assert.deepEqual(Array.from(ox), [0, 9, 10, 19, 20, 29, 30, 39]);
  assert.deepEqual(Array.from(oa), [0, 9, 0, 9, 0, 9, 0, 9]); // min first: it came first
  assert.deepEqual(Array.from(ob), [10, 1, 10, 1, 10, 1, 10, 1]); // max first
});

test("nulls are skipped, an all-null bucket stays a gap", () => {
  const x = range(40);
  const y: (number | null)[] = range(40).map((i) => (i >= 10 && i < 20 ? null : i));
  y[25] = null;
  const [ox, oy] = decimate(x, [y], 4);
  assert.deepEqual(Array.from(ox), [0, 9, 10, 19, 20, 29, 30, 39]);
  assert.deepEqual(Array.from(oy), [0, 9, null, null, 20, 29, 30, 39]);
});

test("buckets follow x, not the index: a gap in time is not filled by neighbours", () => {
  // 0..49 then 950..999: the x range 0..999 in 10 buckets, 8 of them empty
  const x = [...range(50), ...range(50).map((i) => 950 + i)];
  const y = x.map((v) => v);
  const [ox, oy] = decimate(x, [y], 10);
  assert.deepEqual(Array.from(ox), [0, 49, 950, 999]);
  assert.deepEqual(Array.from(oy), [0, 49, 950, 999]);
});

test("inputs are not changed", () => {
  const x = range(100);
  const y = range(100).map((i) => i % 7);
  const copy = [...y];
  decimate(x, [y], 10);
  assert.deepEqual(y, copy);
});
