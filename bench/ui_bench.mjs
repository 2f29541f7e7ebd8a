// ui_bench.mjs [BASE]: the dashboard's rendering cost in headless Chromium (ui/node_modules'
// playwright-core, /usr/bin/chromium or $NS_CHROMIUM).
//   1. frames per second of uPlot drawing 12 series of 36,000 points, the data replaced at
//      every animation frame (a moving window), for 5 s;
//   2. frames per second of sigma.js drawing 2,000 nodes and 4,000 edges with the camera
//      moving at every frame, for 5 s;
//   3. with BASE (a running collector's dashboard, e.g. http://127.0.0.1:8080): the
//      collector-to-screen latency of the stream's state frames (local clock at the frame's
//      arrival minus its `ts`), median and p95 over 10 s.
// Usage: node bench/ui_bench.mjs [http://127.0.0.1:8080]    (after a build of ui/)
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(src, "ui", "package.json"));
const { chromium } = require("playwright-core");
const esbuild = require("esbuild");

const page1 = `
import uPlot from "uplot";
import Graph from "graphology";
import Sigma from "sigma";
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
window.benchPlot = async () => {
  const N = 36000, S = 12;
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
window.benchGraph = async () => {
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
const bundle = await esbuild.build({
  stdin: { contents: page1, resolveDir: join(src, "ui"), loader: "js" },
  bundle: true,
  write: false,
  format: "iife",
  minify: true,
  loader: { ".css": "empty" },
});
const browser = await chromium.launch({
  executablePath: process.env.NS_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.setContent("<!doctype html><body></body>");
await page.addScriptTag({ content: bundle.outputFiles[0].text });
const plot = await page.evaluate(() => window.benchPlot());
console.log(`uplot 12 series x 36000 points, data replaced every frame: ${plot.toFixed(1)} fps`);
const graph = await page.evaluate(() => window.benchGraph());
console.log(`sigma 2000 nodes / 4000 edges, camera moving every frame: ${graph.toFixed(1)} fps`);
const base = process.argv[2];
if (base) {
  const p2 = await browser.newPage();
  await p2.goto(`${base}/#/overview`);
  await p2.waitForTimeout(10000);
  const lat = await p2.evaluate(() => [...window.netscopeStream.latency]);
  lat.sort((a, b) => a - b);
  const q = (f) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))];
  if (lat.length) console.log(`collector-to-screen latency over ${lat.length} frames: median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms`);
  else console.log("no state frames arrived");
}
await browser.close();
