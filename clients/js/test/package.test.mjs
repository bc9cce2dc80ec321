// Package checks: the types compile for a user, npm pack ships exactly the
// built files, the exports resolve, the single script defines WSGateway, and
// the size budget.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";
import { build } from "esbuild";
import { scriptOptions } from "../build.mjs";
import { createRequire } from "node:module";
import vm from "node:vm";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url)));

test("the typed usage example compiles against the published declarations (tsc --noEmit)", () => {
  try {
    execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"], { cwd: root, encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc --noEmit failed:\n${e.stdout}${e.stderr}`);
  }
});

test("npm pack ships exactly dist/, package.json and README.md", () => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" });
  const files = JSON.parse(out)[0].files.map((f) => f.path).sort();
  // files only, at any depth (the tabs feature's declarations are in dist/tabs/)
  const dist = readdirSync(new URL("../dist", import.meta.url), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(relative(root, e.path), e.name));
  assert.deepEqual(files, [...dist, "README.md", "package.json"].sort());
  assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts") && files.includes("dist/wsgateway.min.js"));
});

test("package.json: zero dependencies, ESM, exports with types first", () => {
  assert.equal(pkg.name, "@wsgateway/client");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.dependencies, undefined);
  assert.deepEqual(Object.keys(pkg.exports["."]), ["types", "import"], "types must come first");
  for (const [v, want] of Object.entries(pkg.devDependencies)) assert.match(want, /^\d+\.\d+\.\d+$/, `${v} pinned exactly`);
});

test("the exports resolve by package name to built files", async () => {
  assert.equal(import.meta.resolve("@wsgateway/client"), new URL("../dist/index.js", import.meta.url).href);
  assert.equal(import.meta.resolve("@wsgateway/client/wsgateway.min.js"), new URL("../dist/wsgateway.min.js", import.meta.url).href);
  const m = await import("@wsgateway/client");
  for (const name of ["Client", "Subscription", "WSGatewayError", "UnauthorizedError", "TimeoutError", "DisconnectedError", "closePolicy"])
    assert.equal(typeof m[name], "function", name);
  readFileSync(new URL(pkg.exports["."].types, new URL("../", import.meta.url)));
  createRequire(import.meta.url); // the package is ESM only: no "require" condition is promised
});

test("wsgateway.min.js defines the global WSGateway with the same API", () => {
  const ctx = vm.createContext({});
  vm.runInContext(readFileSync(new URL("../dist/wsgateway.min.js", import.meta.url), "utf8"), ctx);
  assert.equal(typeof ctx.WSGateway.Client, "function");
  assert.equal(typeof ctx.WSGateway.TimeoutError, "function");
  assert.equal(JSON.stringify(ctx.WSGateway.closePolicy(4001)), JSON.stringify({ action: "new_token", backoff: "full" }));
});

test("size budget: wsgateway.min.js is at most 9 KiB gzipped (the contract), its core without tabs at most 6 KiB", async () => {
  const n = gzipSync(readFileSync(new URL("../dist/wsgateway.min.js", import.meta.url)), { level: 9 }).length;
  // the same script with src/tabs/ replaced by the stub it had before the feature: every dial at once
  const stub = {
    name: "no-tabs",
    setup(b) {
      b.onResolve({ filter: /[/\\]tabs[/\\]index\.js$/ }, () => ({ path: "tabs", namespace: "stub" }));
      b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
        contents: "export const startTabs = (m, c) => ({ beforeDial: () => Promise.resolve(), tokenShared() {}, dial: c.dial, stop() {} });",
      }));
    },
  };
  const core = await build({ ...scriptOptions, write: false, plugins: [stub] });
  const c = gzipSync(core.outputFiles[0].contents, { level: 9 }).length;
  console.log(`# wsgateway.min.js: ${n} bytes gzipped; without tabs ${c}; the tabs feature ${n - c}`);
  assert.ok(c < n, "the stub replaced the tabs feature");
  assert.ok(n <= 9 * 1024, `${n} bytes gzipped, over the contract's 9 KiB`);
  assert.ok(c <= 6 * 1024, `the core is ${c} bytes gzipped, over the 6 KiB budget`);
});
