// test.mjs [OUTDIR]: the unit tests. Each test/*.test.ts is bundled for node by esbuild into
// OUTDIR (default a temporary directory) and the bundles are run by `node --test`.
import { build } from "esbuild";
import { mkdtempSync, readdirSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const ui = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = process.argv[2] ? resolve(process.argv[2]) : mkdtempSync(join(tmpdir(), "ns-ui-test-"));
mkdirSync(out, { recursive: true });
const tests = readdirSync(join(ui, "test")).filter((f) => f.endsWith(".test.ts") || f.endsWith(".test.tsx"));
if (tests.length === 0) {
  console.error("test.mjs: no tests in ui/test");
  process.exit(1);
}
await build({
  entryPoints: tests.map((f) => join(ui, "test", f)),
  outdir: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  jsx: "automatic",
  jsxImportSource: "preact",
  outExtension: { ".js": ".mjs" },
  external: ["node:*"],
  logLevel: "warning",
});
// only this run's bundles: a stale one of a removed test may still be in OUTDIR
const files = tests.map((f) => join(out, f.replace(/\.tsx?$/, ".mjs")));
const r = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
