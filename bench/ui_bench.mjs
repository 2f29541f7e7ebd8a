// ui_bench.mjs [BASE]: the dashboard's rendering cost in headless Chromium (ui/node_modules'
// playwright-core, /usr/bin/chromium or $NS_CHROMIUM), through the dashboard's own code: its
// Chart component (chart.tsx) and its host graph page (pages/hosts.tsx: sigma.js, graphology,
// the ForceAtlas2 worker), fed by the stream's applyFrame (state.ts) as the live stream feeds
// them. Frames per second are animation frames the page got per second.
//   1. charts, 12 series x 36,000 points, a stream frame at every animation frame:
//      a) "stress": a new point at every frame (the window moves by one at every frame);
//      b) "live": a new point every 30th frame (the stream's 30 Hz, a point per second) and
//         the overview's policy of handing the chart new arrays ($NS_UI_BENCH_ARRAYS=frame:
//         at every stream frame, as the overview did before decimation; default: only when a
//         point was added);
//   2. graph, 2,000 nodes / 4,000 edges, a stream frame at every animation frame (empty graph
//      delta, and every 30th one the byte counts of 50 nodes), camera still: fps over the
//      first 5 s (the layout running) and over 5 s from the 30th second (settled, if it does);
//   3. the synthetic cases measured before (uPlot given all 432,000 points at every frame;
//      sigma with the camera moving at every frame), for comparison with older results;
//   4. with BASE (a running collector's dashboard, e.g. http://127.0.0.1:8080): the
//      collector-to-screen latency of the stream's state frames (the local clock at the
//      animation frame after a frame arrived minus its `ts`), median and p95 over 10 s.
// $NS_UI_SRC: the ui/ directory whose src/app to bundle (default this tree's), to measure an
// earlier version in the same sitting.
// Usage: node bench/ui_bench.mjs [http://127.0.0.1:8080]    (after `npm ci` in ui/)
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const uiDir = resolve(process.env.NS_UI_SRC ?? join(src, "ui"));
const require = createRequire(join(src, "ui", "package.json"));
const { chromium } = require("playwright-core");
const esbuild = require("esbuild");

const page1 = `
import { h, render } from "preact";
import uPlot from "uplot";
import Graph from "graphology";
import Sigma from "sigma";
import { Chart } from "./chart";
import { Hosts } from "./pages/hosts";
import { Stream } from "./stream";
import { setStream } from "./hooks";
import { applyFrame } from "./state";

function fps(ms, step) {
  return new Promise((done) => {
    let n = 0;
    const t0 = performance.now();
    const tick = () => {
      step(n++);
      if (performance.now() - t0 < ms) requestAnimationFrame(tick);
      else done((n * 1000) / (performance.now() - t0));
    };
    requestAnimationFrame(tick);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const N = 36000, S = 12;
const wave = (i, s) => Math.sin(i / 500 + s) * 100 + s * 50 + (i % 997 === 0 ? 300 : 0);

// the dashboard's Chart with 12 series; pointEvery: frames per new point; arraysEveryFrame:
// new data arrays at every frame (the overview before) or only when a point was added
window.benchChart = async (pointEvery, arraysEveryFrame) => {
  const x = Array.from({ length: N }, (_, i) => 1.7e9 + i);
  const ys = Array.from({ length: S }, (_, s) => Array.from({ length: N }, (_, i) => wave(i, s)));
  const series = ys.map((_, s) => ({ label: "s" + s, color: "hsl(" + s * 30 + ",70%,50%)" }));
  const root = document.createElement("div");
  root.style.width = "1200px";
  document.body.append(root);
  let data = [x.slice(), ...ys.map((y) => y.slice())];
  const draw = () => render(h(Chart, { title: "bench", series, data, height: 500 }), root);
  draw();
  await sleep(500);
  let next = N;
  const r = await fps(5000, (n) => {
    const point = n % pointEvery === 0;
    if (point) {
      x.shift();
      x.push(1.7e9 + next);
      for (let s = 0; s < S; s++) {
        ys[s].shift();
        ys[s].push(wave(next, s));
      }
      next++;
    }
    if (point || arraysEveryFrame) data = [x.slice(), ...ys.map((y) => y.slice())];
    draw();
  });
  render(null, root);
  root.remove();
  return r;
};

// the dashboard's host graph page fed by stream frames
window.benchHosts = async () => {
  const stream = new Stream(async () => "ws://unused");
  setStream(stream);
  const nodes = [], edges = [], seen = new Set();
  for (let i = 0; i < 2000; i++) nodes.push({ id: "10.0." + (i >> 8) + "." + (i & 255), bytes: 1000 + ((i * 7919) % 100000) });
  for (let i = 0; i < 4000; i++) {
    const a = nodes[(i * 7919) % 2000].id, b = nodes[(i * 104729 + 1) % 2000].id;
    if (a === b || seen.has(a + "|" + b)) continue;
    seen.add(a + "|" + b);
    edges.push({ src: a, dst: b, bytes: 100 + i });
  }
  let seq = 0;
  const frame = (graph) => {
    applyFrame(stream.state, { type: "state", ts: Date.now() * 1e6, seq: ++seq, graph });
    stream.emit();
  };
  frame({ nodes, edges, full: true });
  const root = document.createElement("div");
  document.body.append(root);
  render(h(Hosts, {}), root);
  frame({});
  const step = (n) => {
    if (n % 30 === 29) {
      const upd = [];
      for (let k = 0; k < 50; k++) {
        const nd = nodes[(n * 31 + k * 37) % 2000];
        nd.bytes += 500;
        upd.push({ id: nd.id, bytes: nd.bytes });
      }
      frame({ nodes: upd, edges: [] });
    } else {
      frame({ nodes: [], edges: [], removed_nodes: [], removed_edges: [] });
    }
  };
  const early = await fps(5000, step);
  await fps(25000, step);
  const late = await fps(5000, step);
  render(null, root);
  root.remove();
  return [early, late];
};

window.benchPlotRaw = async () => {
  const x = Float64Array.from({ length: N }, (_, i) => 1.7e9 + i);
  const ys = Array.from({ length: S }, (_, s) => Float64Array.from({ length: N }, (_, i) => Math.sin(i / 500 + s) * 100 + s * 50));
  const el = document.createElement("div");
  document.body.append(el);
  const opts = { width: 1200, height: 500, series: [{}, ...ys.map((_, s) => ({ label: "s" + s, stroke: "hsl(" + s * 30 + ",70%,50%)" }))], scales: { x: { time: true } } };
  const u = new uPlot(opts, [x, ...ys], el);
  const r = await fps(5000, (n) => {
    const k = (n * 37) % N;
    u.setData([x, ...ys.map((y) => { y[k] = y[k] + 1; return y; })]);
  });
  u.destroy();
  el.remove();
  return r;
};
window.benchGraphCamera = async () => {
  const g = new Graph();
  for (let i = 0; i < 2000; i++) g.addNode("n" + i, { x: Math.cos(i) * i, y: Math.sin(i) * i, size: 2 + (i % 7), label: "10.0." + (i >> 8) + "." + (i & 255), color: "#4aa3ff" });
  for (let i = 0; i < 4000; i++) {
    const a = "n" + ((i * 7919) % 2000), b = "n" + ((i * 104729 + 1) % 2000);
    if (a !== b && !g.hasEdge(a, b)) g.addEdge(a, b, { size: 1, color: "#3a4b5c" });
  }
  const el = document.createElement("div");
  el.style.width = "1200px";
  el.style.height = "800px";
  document.body.append(el);
  const s = new Sigma(g, el);
  const cam = s.getCamera();
  const r = await fps(5000, (n) => cam.setState({ angle: n / 100, ratio: 1 + 0.3 * Math.sin(n / 30) }));
  s.kill();
  return r;
};
`;
const app = join(uiDir, "src", "app");
const common = { bundle: true, write: false, minify: true, jsx: "automatic", jsxImportSource: "preact", logLevel: "error" };
const bundle = await esbuild.build({
  ...common,
  stdin: { contents: page1, resolveDir: app, loader: "js" },
  format: "iife",
  loader: { ".css": "empty" },
  nodePaths: [join(src, "ui", "node_modules")],
});
const worker = await esbuild.build({ ...common, entryPoints: [join(app, "fa2_worker.ts")], format: "iife", nodePaths: [join(src, "ui", "node_modules")] });
const browser = await chromium.launch({
  executablePath: process.env.NS_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
// a made-up origin, so that the host graph's `new Worker("fa2_worker.js")` finds its file
const origin = "http://ui-bench.invalid";
await page.route(`${origin}/**`, (route) => {
  const path = new URL(route.request().url()).pathname;
  if (path === "/fa2_worker.js") return route.fulfill({ contentType: "text/javascript", body: worker.outputFiles[0].text });
  if (path === "/app.js") return route.fulfill({ contentType: "text/javascript", body: bundle.outputFiles[0].text });
  return route.fulfill({
    contentType: "text/html",
    body: '<!doctype html><style>body{margin:0} #graph{width:1200px;height:800px}</style><body><script src="app.js"></script></body>',
  });
});
await page.goto(`${origin}/`);
const f = (v) => v.toFixed(1);
const arraysEveryFrame = process.env.NS_UI_BENCH_ARRAYS === "frame";
console.log(`source: ${uiDir}`);
const stress = await page.evaluate(() => window.benchChart(1, true));
console.log(`chart 12 series x 36000 points, a new point at every frame: ${f(stress)} fps`);
const live = await page.evaluate((a) => window.benchChart(30, a), arraysEveryFrame);
console.log(`chart 12 series x 36000 points, stream at every frame, a point every 30th (new arrays ${arraysEveryFrame ? "every frame" : "per point"}): ${f(live)} fps`);
const [early, late] = await page.evaluate(() => window.benchHosts());
console.log(`host graph 2000 nodes, stream at every frame: ${f(early)} fps in the first 5 s, ${f(late)} fps from the 30th s`);
const raw = await page.evaluate(() => window.benchPlotRaw());
console.log(`uplot 12 series x 36000 points, data replaced every frame: ${f(raw)} fps`);
const cam = await page.evaluate(() => window.benchGraphCamera());
console.log(`sigma 2000 nodes / 4000 edges, camera moving every frame: ${f(cam)} fps`);
const base = process.argv[2];
if (base) {
  const p2 = await browser.newPage();
  await p2.goto(`${base}/#/overview`);
  await p2.waitForTimeout(10000);
  const lat = await p2.evaluate(() => [...window.netscopeStream.latency]);
  lat.sort((a, b) => a - b);
  const q = (v) => lat[Math.min(lat.length - 1, Math.floor(v * lat.length))];
  if (lat.length) console.log(`collector-to-screen latency over ${lat.length} frames: median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms`);
  else console.log("no state frames arrived");
}
await browser.close();
