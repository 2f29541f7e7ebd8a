import { test } from "node:test";
import assert from "node:assert/strict";
import { bps, bytes, duration, ms, si, utc, cell } from "../src/app/format";

test("si scales by 1000 with three significant digits", () => {
  assert.equal(si(0), "0");
  assert.equal(si(999), "999");
  assert.equal(si(1000), "1.00 k");
  assert.equal(si(1234567), "1.23 M");
  assert.equal(si(45_600_000_000), "45.6 G");
  assert.equal(si(-2500), "-2.50 k");
  assert.equal(si(999_600), "1.00 M");
});

test("units and missing values", () => {
  assert.equal(bytes(512), "512 B");
  assert.equal(bytes(1536), "1.54 kB");
  assert.equal(bps(12_500_000), "12.5 Mbit/s");
  assert.equal(si(null), "-");
  assert.equal(si(Number.NaN), "-");
  assert.equal(ms(null), "-");
  assert.equal(ms(3.14159), "3.14 ms");
  assert.equal(ms(42.26), "42.3 ms");
});

test("durations", () => {
  assert.equal(duration(0.25), "250 ms");
  assert.equal(duration(12.34), "12.3 s");
  assert.equal(duration(245), "4m 05s");
  assert.equal(duration(7380), "2h 03m");
  assert.equal(duration(-1), "-");
});

test("utc and cells", () => {
  assert.equal(utc(1733400000), "2024-12-05 12:00:00");
  assert.equal(cell(undefined), "-");
  assert.equal(cell({ a: 1 }), '{"a":1}');
  assert.equal(cell("<img src=x>"), "<img src=x>");
});
