// loadSrc imports one module of src/ directly (bundled by esbuild into a
// temporary file), for the tests of internals the package does not export.
import { build } from "esbuild";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "wsg-src-"));

export async function loadSrc(file) {
  const out = join(dir, file.replace(/\.ts$/, ".mjs"));
  await build({ entryPoints: [fileURLToPath(new URL(`../../src/${file}`, import.meta.url))], outfile: out, bundle: true, format: "esm", logLevel: "warning" });
  return import(pathToFileURL(out).href);
}
