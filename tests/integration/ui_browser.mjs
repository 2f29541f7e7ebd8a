// ui_browser.mjs BASE SHOTS CHROMIUM: drives the dashboard at BASE in headless Chromium (see
// test_ui_browser.sh). Prints one line per check; exits 1 when any failed.
import { createRequire } from "node:module";
import { join } from "node:path";

const [base, shots, chromiumPath] = process.argv.slice(2);
const require = createRequire(join(process.env.NS_SRC ?? ".", "ui", "package.json"));
const { chromium } = require("playwright-core");

let failed = 0;
function check(ok, what) {
  console.log(`${ok ? "ok" : "FAIL"}: ${what}`);
  if (!ok) failed++;
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const problems = [];
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("console", (m) => {
  if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
});
// failed requests other than the bad filter's dry run, which the test makes on purpose
page.on("response", (r) => {
  if (r.status() >= 400 && !r.url().includes("filter_dryrun?bpf=port%2080%20and%20and")) problems.push(`${r.status()} ${r.url()}`);
});
// the stream's messages and error frames, printed when a check fails
const wsLog = [];
page.on("websocket", (ws) => {
  wsLog.push(`open ${ws.url()}`);
  ws.on("framesent", (f) => wsLog.push(`sent ${f.payload}`));
  ws.on("framereceived", (f) => {
    const t = typeof f.payload === "string" ? f.payload : "";
    if (t.includes('"type":"error"') || t.includes('"type":"hello"')) wsLog.push(`received ${t.slice(0, 300)}`);
  });
  ws.on("close", () => wsLog.push("closed"));
});
// every payload calls __xss(N): record the calls
await page.addInitScript(() => {
  window.__xssHits = [];
  window.__xss = (n) => window.__xssHits.push(n);
});

// No payload ran, and none became an element (an element from markup would be one of these).
async function noXss(where) {
  const r = await page.evaluate(() => ({
    hits: window.__xssHits.length,
    injected: document.querySelectorAll(
      "[onerror],[onload],[ontoggle],iframe,details,math,svg,img,body a[href^='javascript'],script:not([src])",
    ).length,
    scripts: document.scripts.length,
  }));
  check(r.hits === 0 && r.injected === 0 && r.scripts === 1, `${where}: 0 payloads ran (${r.hits}), ${r.injected} injected elements, ${r.scripts} script`);
}

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

async function waitFor(fn, arg, ms = 20000) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 200 });
    return true;
  } catch {
    return false;
  }
}

const t0 = Date.now();
try {
  // ---- overview: live numbers, charts, protocols, talkers -----------------------------------
  await page.goto(`${base}/#/overview`);
  check(await waitFor(() => document.querySelector("[data-testid=stream-status]")?.textContent?.startsWith("live")), "the stream connects");
  check(
    await waitFor(() => Number.parseFloat(document.querySelector("[data-testid=kpi-flows]")?.textContent ?? "0") > 0),
    "overview: active flows from the stream",
  );
  check(await waitFor(() => document.querySelectorAll("[data-testid=protocols] tr").length > 0), "overview: protocol distribution");
  check(await waitFor(() => document.querySelectorAll("[data-testid=talkers] tr").length > 0), "overview: top talkers");
  check(await waitFor(() => document.querySelectorAll(".chart canvas").length >= 4), "overview: four uPlot charts");
  // a few seconds of samples in the throughput chart
  await page.waitForTimeout(2500);
  check((await page.textContent("[data-testid=kpi-bps]")) !== "-", "overview: throughput");
  await shot("overview");
  await page.goto(`${base}/#/overview?from=-5m`);
  await page.waitForTimeout(1500);
  check(!(await page.isVisible("text=history:")), "overview: history from /api/v1/timeseries loads without error");
  await shot("overview_history");
  await noXss("overview");

  // ---- hosts: the graph, a click on a host ----------------------------------------------------
  await page.goto(`${base}/#/hosts`);
  check(await waitFor(() => /^[1-9]\d* hosts/.test(document.querySelector("#graph")?.previousElementSibling?.textContent ?? "")), "hosts: graph nodes");
  await page.waitForTimeout(2500); // a few layout rounds from the worker
  const target = "10.2.0.53";
  // The layout worker keeps moving nodes: read the node's position and click at once, again
  // (up to 8 times) until the click lands.
  const nodePos = () => page.evaluate((id) => {
    const el = document.getElementById("graph");
    const sigma = el && el.sigma;
    if (!sigma || !sigma.getGraph().hasNode(id)) return null;
    const d = sigma.getNodeDisplayData(id);
    const p = sigma.framedGraphToViewport(d);
    const r = el.getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, target);
  let pos = await nodePos();
  check(pos !== null, `hosts: ${target} is drawn`);
  await shot("hosts");
  let filtered = false;
  for (let attempt = 0; pos && !filtered && attempt < 8; attempt++) {
    await page.mouse.click(pos.x, pos.y);
    filtered = await waitFor((h) => location.hash.includes(`host=${h}`), target, 1500);
    if (!filtered) pos = await nodePos();
  }
  check(filtered, `hosts: a click on ${target} sets the global host filter`);
  await noXss("hosts");

  // ---- flows: the host filter applies, detail, keyboard ---------------------------------------
  await page.click("nav a[href^='#/flows']");
  check(await waitFor(() => document.querySelectorAll("[data-testid=flow-table] tbody tr[data-uid]").length > 0), "flows: rows");
  const rows = await page.$$eval("[data-testid=flow-table] tbody tr[data-uid]", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  check(rows.length > 0 && rows.every((r) => r[0] === target || r[2] === target), `flows: every row has ${target} (${rows.length} rows)`);
  const count = await page.textContent("[data-testid=flow-count]");
  const m = /^(\d+) of (\d+)/.exec(count ?? "");
  check(m && Number(m[1]) < Number(m[2]), `flows: the host filter narrows the table (${count})`);
  check(await page.isVisible("[data-testid=host-chip]"), "flows: the host filter is shown");
  await shot("flows_host");
  // clear it; the ended flows (from the store) carry the payloads: shown as text
  await page.click("[data-testid=host-chip] button");
  // live rows carry the collector's latest request or query ("app"), shown in the info column
  await page.fill("[data-testid=flow-query]", "port=53");
  check(
    await waitFor(() => [...document.querySelectorAll("[data-testid=flow-table] tbody tr[data-uid] td:last-child")].some((td) => /\S/.test(td.textContent))),
    "flows: live DNS flows show their query name",
  );
  await page.fill("[data-testid=flow-query]", "");
  await page.click("[data-testid=flows-ended]");
  await page.fill("[data-testid=flow-query]", "port=80");
  check(
    await waitFor(() => [...document.querySelectorAll("[data-testid=flow-table] tbody tr[data-uid] td:last-child")].filter((td) => td.textContent.includes("__xss(")).length >= 20),
    "flows: the payloads of the ended HTTP flows shown as text in the info column",
  );
  await page.fill("[data-testid=flow-query]", "port=53 xss");
  check(
    await waitFor(() => [...document.querySelectorAll("[data-testid=flow-table] tbody tr[data-uid] td:last-child")].filter((td) => td.textContent.includes("__xss(")).length >= 20),
    "flows: the payloads of the ended DNS flows shown as text",
  );
  await noXss("flows");
  await shot("flows_ended");
  await page.fill("[data-testid=flow-query]", "port=80");
  await page.waitForTimeout(300);
  // keyboard: focus the table, move down, Enter opens the detail
  await page.focus("[data-testid=flow-table]");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  const sel = await page.getAttribute("tr.sel", "data-uid");
  check(!!sel, "flows: the keyboard selects a row");
  await page.keyboard.press("Enter");
  check(await waitFor((u) => location.hash.startsWith("#/flow?") && location.hash.includes(u), sel, 5000), "flows: Enter opens the flow detail");
  check(await waitFor(() => document.body.innerText.includes("user_agent") && document.body.innerText.includes("__xss(")), "flow detail: the HTTP transaction, payloads as text");
  check(await waitFor(() => document.body.innerText.includes("rtt_handshake_us")), "flow detail: the TCP analysis");
  await noXss("flow detail");
  await shot("flow_detail");

  // ---- filter: a bad filter's error verbatim, a dry run, a good filter ------------------------
  const bad = "port 80 and and";
  const expected = await page.evaluate(async (b) => {
    const r = await fetch(`/api/v1/agents/lab-agent/filter_dryrun?bpf=${encodeURIComponent(b)}`);
    return (await r.json()).error;
  }, bad);
  await page.goto(`${base}/#/filter`);
  await page.fill("[data-testid=bpf]", bad);
  await page.click("[data-testid=apply]");
  check(await waitFor(() => !!document.querySelector("[data-testid=filter-error]")), "filter: the bad filter's error is shown");
  const shown = await page.textContent("[data-testid=filter-error]").catch(() => null);
  check(shown === expected && /syntax error/.test(shown ?? ""), `filter: libpcap's error verbatim ("${shown}" vs the API's "${expected}")`);
  await shot("filter_error");
  await page.fill("[data-testid=bpf]", "udp port 53");
  await page.click("[data-testid=dryrun]");
  check(await waitFor(() => !!document.querySelector("[data-testid=dryrun-result],[data-testid=dryrun-error]"), undefined, 12000), "filter: the dry run answers");
  const dryText = await page.textContent("[data-testid=dryrun-result],[data-testid=dryrun-error]");
  console.log(`  dry run: ${dryText}`);
  check(/keeps \d+ of [1-9]\d* packets \(the agent's whole ring\)/.test(dryText ?? ""), "filter: the dry run counts the agent's whole ring");
  await page.click("[data-testid=apply]");
  check(await waitFor(() => document.querySelector("[data-testid=active-bpf]")?.textContent === "udp port 53" && !document.querySelector("[data-testid=filter-error]")), "filter: a good filter applies");
  await shot("filter");
  // the nav keeps the filter in the permalink
  await page.click("nav a[href^='#/flows']");
  check(await waitFor(() => location.hash.startsWith("#/flows?") && new URLSearchParams(location.hash.split("?")[1]).get("bpf") === "udp port 53", undefined, 5000), "filter: the permalink carries it");
  // the stream's state frames carry the filter (the bad filter's error frame went first: the
  // collector must still send the state frame that was due behind it)
  check(
    await waitFor(() => {
      const trs = [...document.querySelectorAll("[data-testid=flow-table] tbody tr[data-uid]")];
      return trs.length > 0 && trs.every((tr) => tr.children[4].textContent === "udp");
    }),
    "flows: only udp flows under the stream filter",
  );
  console.log("  protocols shown:", await page.$$eval("[data-testid=flow-table] tbody tr[data-uid]", (trs) => [...new Set(trs.map((tr) => tr.children[4].textContent))].join(",")));
  await noXss("filtered flows");
  await shot("flows_filtered");

  // ---- alerts, agents, host detail, inspector -------------------------------------------------
  await page.goto(`${base}/#/alerts`);
  check(await waitFor(() => !!document.querySelector("[data-testid=alerts]") && !document.querySelector("[data-testid=alerts] .error")), "alerts: the page loads");
  await shot("alerts");
  await page.goto(`${base}/#/agents`);
  check(await waitFor(() => document.querySelector("[data-testid=agents]")?.textContent?.includes("lab-agent")), "agents: lab-agent listed");
  await shot("agents");
  await page.goto(`${base}/#/host?host=10.1.0.1`);
  check(await waitFor(() => document.body.innerText.includes("Peers") && document.body.innerText.includes("10.2.0.53")), "host detail: peers");
  await shot("host");
  const liveUid = await page.evaluate(async () => {
    const r = await fetch("/api/v1/flows?live=only&limit=1&proto=tcp");
    return (await r.json()).flows[0]?.uid ?? "";
  });
  await page.goto(`${base}/#/inspector?uid=${encodeURIComponent(liveUid)}`);
  // the flow's packets come from the agent's ring through the stream; the tree is the WASM
  // decoder's; a click on the ip.src field must highlight exactly that address's 4 bytes
  check(await waitFor(() => !!document.querySelector(".insp-tree .insp-field"), undefined, 20000), "inspector: the flow's packets decoded into a protocol tree");
  const ipField = page.locator(".insp-field", { hasText: /ip\.src: \d+\.\d+\.\d+\.\d+/ }).first();
  const ipText = (await ipField.textContent().catch(() => "")) ?? "";
  await ipField.click().catch(() => {});
  await page.waitForTimeout(300);
  const lit = await page.$$eval(".insp-hex span[data-byte]", (spans) => {
    const out = new Map();
    for (const s of spans) if (s.style.background && !out.has(Number(s.dataset.byte))) out.set(Number(s.dataset.byte), s.textContent);
    return [...out.entries()].sort((a, b) => a[0] - b[0]);
  });
  const litAddr = lit.filter(([, t]) => /^[0-9a-f]{2}$/.test(t ?? "")).map(([, t]) => parseInt(t, 16)).join(".");
  const want = /ip\.src: (\S+)/.exec(ipText)?.[1] ?? "?";
  check(lit.length === 4 && litAddr === want, `inspector: ip.src (${want}) highlights its 4 bytes (got ${lit.length} bytes: ${litAddr})`);
  await shot("inspector");
  await noXss("inspector");
  check(problems.length === 0, `no page errors (${problems.slice(0, 5).join(" | ")})`);
} catch (e) {
  check(false, `exception: ${e.stack ?? e}`);
  await shot("exception").catch(() => {});
}
if (failed) console.log(`stream log:\n  ${wsLog.join("\n  ")}`);
console.log(`browser checks took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
await browser.close();
process.exit(failed ? 1 : 0);
