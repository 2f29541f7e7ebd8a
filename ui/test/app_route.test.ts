import { test } from "node:test";
import assert from "node:assert/strict";
import { formatHash, parseHash, parseTime, stepFor, timeRange } from "../src/app/route";
import { streamUrl } from "../src/app/api";
import { info, matches, sortFlows, windowRows } from "../src/app/flows";

test("hash round trip", () => {
  const r = { view: "flows" as const, host: "10.0.0.1", bpf: "tcp and port 80", from: "-15m", uid: "Cabc" };
  const h = formatHash(r);
  assert.ok(h.startsWith("#/flows?"));
  assert.deepEqual(parseHash(h), r);
  assert.deepEqual(parseHash(""), { view: "overview" });
  assert.deepEqual(parseHash("#/nonsense?host="), { view: "overview" });
  assert.equal(parseHash("#/filter?bpf=host%2010.0.0.1%20%26%20x").bpf, "host 10.0.0.1 & x");
});

test("times and ranges", () => {
  const now = 1_800_000_000;
  assert.equal(parseTime("-15m", now), now - 900);
  assert.equal(parseTime("-2h", now), now - 7200);
  assert.equal(parseTime("1733400000", now), 1733400000);
  assert.equal(parseTime("2024-12-05T12:00:00Z", now), 1733400000);
  assert.equal(parseTime("yesterday", now), null);
  assert.equal(timeRange({ view: "overview" }, now), null);
  assert.deepEqual(timeRange({ view: "overview", from: "-1h" }, now), { from: now - 3600, to: now });
  assert.equal(timeRange({ view: "overview", from: "-1h", to: "-2h" }, now), null);
  assert.equal(stepFor({ from: 0, to: 300 }), 1);
  assert.equal(stepFor({ from: 0, to: 3600 }), 60);
  assert.equal(stepFor({ from: 0, to: 86400 }), 3600);
});

test("stream url: wildcard replaced, token added", () => {
  assert.equal(streamUrl("ws://0.0.0.0:8081/api/v1/stream", "lab.example", null), "ws://lab.example:8081/api/v1/stream");
  assert.equal(streamUrl("ws://127.0.0.1:8081/api/v1/stream", "x", "t k"), "ws://127.0.0.1:8081/api/v1/stream?token=t+k");
});

test("flow table: matching, stable sorting, windows", () => {
  const f = (uid: string, o: string, r: string, port: number, b: number) => ({ uid, "id.orig_h": o, "id.resp_h": r, "id.orig_p": 5000, "id.resp_p": port, proto: "tcp", orig_wire_bytes: b, resp_wire_bytes: 0 });
  const flows = [f("B", "10.0.0.1", "10.0.0.2", 80, 5), f("A", "10.0.0.3", "10.0.0.1", 443, 5), f("C", "10.0.0.4", "10.0.0.5", 53, 9)];
  assert.deepEqual(flows.filter((x) => matches(x, "host=10.0.0.1")).map((x) => x.uid), ["B", "A"]);
  assert.deepEqual(flows.filter((x) => matches(x, "port=443 tcp")).map((x) => x.uid), ["A"]);
  assert.deepEqual(flows.filter((x) => matches(x, "10.0.0.4")).map((x) => x.uid), ["C"]);
  assert.deepEqual(sortFlows([...flows], "bytes", true).map((x) => x.uid), ["C", "A", "B"]);
  assert.deepEqual(sortFlows([...flows], "bytes", false).map((x) => x.uid), ["A", "B", "C"]);
  assert.deepEqual(windowRows(0, 220, 22, 1000, 0), [0, 10]);
  assert.deepEqual(windowRows(2200, 220, 22, 1000, 5), [95, 115]);
  assert.deepEqual(windowRows(0, 220, 22, 3, 5), [0, 3]);
});

test("flow info: the first HTTP request or DNS question, verbatim text", () => {
  assert.equal(info({ uid: "a", http: [{ method: "GET", host: "<b>x</b>", uri: "/p?q=<s>" }, { host: "later" }] }), "GET <b>x</b>/p?q=<s>");
  assert.equal(info({ uid: "b", dns: [{ qtype_name: "A", query: "<img>.lab" }] }), "A <img>.lab");
  assert.equal(info({ uid: "c" }), "");
  // live rows carry the collector's latest request or query as "app" (null when none)
  assert.equal(info({ uid: "d", app: "GET <script>x</script>/a" }), "GET <script>x</script>/a");
  assert.equal(info({ uid: "e", app: null }), "");
  assert.equal(info({ uid: "f", app: "later.lab", dns: [{ qtype_name: "A", query: "first.lab" }] }), "A first.lab");
});
