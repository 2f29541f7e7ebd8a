import { test } from "node:test";
import assert from "node:assert/strict";
import { dryRunText, isAddress, isNet, isPort, rowError, rowsToBpf } from "../src/app/bpf";

test("addresses", () => {
  for (const a of ["10.0.0.1", "255.255.255.255", "::1", "fe80::1", "2001:db8::", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8"]) assert.ok(isAddress(a), a);
  for (const a of ["256.0.0.1", "10.0.0", "010.0.0.1", "1:2:3:4:5:6:7:8:9", "1::2::3", "host", "10.0.0.1 or 1", "", "example.com"]) assert.ok(!isAddress(a), a);
});

test("nets and ports", () => {
  assert.ok(isNet("10.0.0.0/8"));
  assert.ok(isNet("2001:db8::/32"));
  assert.ok(!isNet("10.0.0.0/33"));
  assert.ok(!isNet("10.0.0.0"));
  assert.ok(isPort("443"));
  assert.ok(isPort("1000-2000"));
  assert.ok(!isPort("65536"));
  assert.ok(!isPort("2000-1000"));
  assert.ok(!isPort("80 or 1"));
});

test("rows become an expression: same kind or-ed, kinds and-ed, directions", () => {
  const r = rowsToBpf([
    { kind: "host", value: "10.0.0.1", dir: "src" },
    { kind: "host", value: "10.0.0.2", dir: "any" },
    { kind: "port", value: "443", dir: "dst" },
    { kind: "proto", value: "tcp", dir: "any" },
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.bpf, "(src host 10.0.0.1 or host 10.0.0.2) and dst port 443 and tcp");
  assert.equal(rowsToBpf([{ kind: "port", value: "1000-2000", dir: "any", negate: true }]).bpf, "not portrange 1000-2000");
  assert.equal(rowsToBpf([{ kind: "net", value: " 10.0.0.0/8 ", dir: "dst" }]).bpf, "dst net 10.0.0.0/8");
  assert.equal(rowsToBpf([]).bpf, "");
});

test("injection attempts are refused, not escaped into the expression", () => {
  for (const v of ["10.0.0.1 or 1=1", "10.0.0.1) or (tcp", "evil.example", "1.2.3.4\nor tcp"]) {
    const r = rowsToBpf([{ kind: "host", value: v, dir: "any" }]);
    assert.equal(r.bpf, "");
    assert.equal(r.errors.length, 1, v);
  }
  assert.match(rowError({ kind: "proto", value: "tcp or udp", dir: "any" }) ?? "", /not one of/);
  assert.match(rowError({ kind: "port", value: "", dir: "any" }) ?? "", /a value is needed/);
});

test("dry run text says what the counts cover", () => {
  const base = { agent: "a1", bpf: "tcp", flows: 31, answered: 12, packets: 5000, kept: 3867 };
  assert.equal(dryRunText({ ...base, scope: "ring", truncated: false }), "dry run on a1: keeps 3867 of 5000 packets (the agent's whole ring)");
  assert.match(dryRunText({ ...base, scope: "ring", truncated: true }), /whole ring, not all of them answered in time\)$/);
  // without a scope (a collector before it) the counts are the flows'
  for (const r of [{ ...base, scope: "flows" as const }, base])
    assert.equal(dryRunText(r), "dry run on a1: keeps 3867 of 5000 packets (recent live flows only: 12 of 31 answered; the agent predates whole-ring dry runs)");
});
