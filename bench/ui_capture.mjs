// ui_capture.mjs BASE PROBES -- SENDER...: capture-to-screen latency of the dashboard.
//
// Opens BASE's flow table (#/flows, the collector's dashboard) in headless Chromium
// (ui/node_modules' playwright-core, /usr/bin/chromium or $NS_CHROMIUM), starts SENDER (a
// command speaking bench/probe_udp.py's protocol: "PORT SIZE" in, "PORT SEND_NS" out, run
// where an agent captures its datagrams) and sends PROBES probes one at a time, each a new
// UDP flow to its own port, 1 to 1.5 s apart (random, so that probes do not lock onto the
// agent's export interval). A probe is on screen when its flow's row (tr[data-uid], found
// through the stream's state) is in the DOM; its time on screen is taken at the animation
// frame after that (the frame after the one that painted it: an upper bound by one frame,
// the same convention as the collector-to-screen samples). Each probe is bigger than the one
// before, so the table (by bytes, descending) shows the newest first.
// Prints one line per probe ("probe PORT MS" or "probe PORT lost"), then
//   capture-to-screen: N probes, L lost, median M ms, p95 P ms, max X ms
//   collector-to-screen: F frames, median M ms, p95 P ms
// the second over the stream's state frames during the same probes (window.netscopeStream).
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(src, "ui", "package.json"));
const { chromium } = require("playwright-core");

const [base, probesArg, dashes, ...sender] = process.argv.slice(2);
if (!base || !probesArg || dashes !== "--" || sender.length === 0) {
  console.error("usage: node bench/ui_capture.mjs BASE PROBES -- SENDER...");
  process.exit(2);
}
const probes = Number(probesArg);
const FIRST_PORT = 41000;
const WAIT_MS = 5000; // a probe not on screen by then is lost

const child = spawn(sender[0], sender.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
const send = async (port, size) => {
  child.stdin.write(`${port} ${size}\n`);
  const { value, done } = await lines.next();
  if (done) throw new Error("the probe sender ended");
  const [p, ns] = value.trim().split(/\s+/);
  if (Number(p) !== port) throw new Error(`the probe sender answered ${value}`);
  return Number(BigInt(ns) / 1000n) / 1000; // ms, sub-ms kept
};

const browser = await chromium.launch({
  executablePath: process.env.NS_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});
const quantile = (v, q) => v[Math.min(v.length - 1, Math.floor(q * v.length))];
let rc = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
  await page.goto(`${base}/#/flows`);
  await page.waitForFunction(() => window.netscopeStream?.status === "open" && window.netscopeStream.state.seq > 0, null, { timeout: 20000 });
  // watch(port): resolves with the screen time of the probe's row, or null after WAIT_MS
  await page.evaluate((waitMs) => {
    window.watch = (port) => {
      window.seen = new Promise((done) => {
        let uid = null;
        const check = () => {
          if (uid === null)
            for (const f of window.netscopeStream.state.flows.values())
              if (f["id.resp_p"] === port && f.proto === "udp") uid = f.uid;
          if (uid === null || !document.querySelector(`tr[data-uid="${CSS.escape(uid)}"]`)) return;
          mo.disconnect();
          clearTimeout(timer);
          requestAnimationFrame(() => done(performance.timeOrigin + performance.now()));
        };
        const mo = new MutationObserver(check);
        mo.observe(document.body, { childList: true, subtree: true, characterData: true });
        const timer = setTimeout(() => {
          mo.disconnect();
          done(null);
        }, waitMs);
      });
    };
  }, WAIT_MS);
  await page.evaluate(() => (window.netscopeStream.latency.length = 0));
  const got = [];
  let lost = 0;
  for (let i = 0; i < probes; i++) {
    const port = FIRST_PORT + i;
    await page.evaluate((p) => window.watch(p), port);
    const sent = await send(port, 64 + 16 * i);
    const shown = await page.evaluate(() => window.seen);
    if (shown === null) {
      lost++;
      console.log(`probe ${port} lost`);
    } else {
      got.push(shown - sent);
      console.log(`probe ${port} ${(shown - sent).toFixed(1)}`);
    }
    await new Promise((r) => setTimeout(r, 500 + Math.random() * 500));
  }
  const lat = await page.evaluate(() => [...window.netscopeStream.latency]);
  got.sort((a, b) => a - b);
  lat.sort((a, b) => a - b);
  if (got.length)
    console.log(`capture-to-screen: ${probes} probes, ${lost} lost, median ${quantile(got, 0.5).toFixed(1)} ms, p95 ${quantile(got, 0.95).toFixed(1)} ms, max ${got[got.length - 1].toFixed(1)} ms`);
  else console.log(`capture-to-screen: ${probes} probes, ${lost} lost`);
  if (process.env.NS_UI_DEBUG) console.log(lat.map((v) => v.toFixed(0)).join(" "));
  if (lat.length) console.log(`collector-to-screen: ${lat.length} frames, median ${quantile(lat, 0.5).toFixed(1)} ms, p95 ${quantile(lat, 0.95).toFixed(1)} ms`);
  if (!got.length) rc = 1;
} finally {
  child.stdin.end();
  await browser.close();
}
process.exit(rc);
