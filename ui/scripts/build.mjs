// build.mjs OUTDIR [WASM]: bundles the dashboard into OUTDIR (index.html, app.js, app.css,
// fa2_worker.js) and copies the WebAssembly decoder there when WASM names an existing file.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ui = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(process.argv[2] ?? join(ui, "dist"));
const wasm = process.argv[3];
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "warning",
};
await build({
  ...common,
  entryPoints: { app: join(ui, "src/app/main.tsx") },
  outdir: out,
  format: "esm",
  loader: { ".css": "css" },
});
await build({
  ...common,
  entryPoints: { fa2_worker: join(ui, "src/app/fa2_worker.ts") },
  outdir: out,
  format: "iife",
});
copyFileSync(join(ui, "src/app/index.html"), join(out, "index.html"));
if (wasm && existsSync(wasm)) copyFileSync(wasm, join(out, "netscope_decode.wasm"));
else console.warn(`build.mjs: no WebAssembly decoder at ${wasm ?? "(none given)"}; inspector decoding unavailable`);
