import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll, demoCopy } from "../build.mjs";

test("the committed demo copy of wsgateway.min.js is built from the current sources", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsg-build-"));
  try {
    const fresh = readFileSync(await buildAll(dir));
    assert.ok(
      fresh.equals(readFileSync(demoCopy)),
      `${demoCopy} is stale: run "npm run build" in clients/js and commit it`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
