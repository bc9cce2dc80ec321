// Runs every *.test.mjs under test/ (any depth) with node --test: Node 20's
// own discovery of a directory would also run the helpers as tests.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const files = readdirSync("test", { recursive: true })
  .filter((f) => f.endsWith(".test.mjs"))
  .map((f) => join("test", f))
  .sort();
if (files.length == 0) {
  console.error("run-tests: no test/**/*.test.mjs");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--test", "--test-timeout=60000", ...process.argv.slice(2), ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
