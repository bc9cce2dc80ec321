// Builds dist/ (index.js ESM, index.d.ts and the other declarations, and the
// single script wsgateway.min.js) and copies wsgateway.min.js to the Go demo
// package, which embeds it so that `go build` needs no Node.
//
//   node build.mjs               build into dist/ and update the demo copy
//   node build.mjs --out DIR     build into DIR only (the staleness test)
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
export const demoCopy = join(root, "../../service/internal/demo/wsgateway.min.js");

const common = { bundle: true, target: "es2020", logLevel: "warning", legalComments: "none" };

/** scriptOptions build the single script (without its outfile); the size test builds it without the tabs feature too. */
export const scriptOptions = {
  ...common,
  entryPoints: [join(root, "src/global.ts")],
  format: "iife",
  globalName: "WSGateway",
  minify: true,
  // internal members start with "_" and are never reached from outside the bundle
  mangleProps: /^_/,
};

/** buildAll writes the package's files into outdir and returns the path of its wsgateway.min.js. */
export async function buildAll(outdir) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({ ...common, entryPoints: [join(root, "src/index.ts")], outfile: join(outdir, "index.js"), format: "esm" });
  await build({ ...scriptOptions, outfile: join(outdir, "wsgateway.min.js") });
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", outdir], {
    stdio: "inherit",
  });
  return join(outdir, "wsgateway.min.js");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--out");
  const min = await buildAll(i > 0 ? process.argv[i + 1] : join(root, "dist"));
  if (i < 0) {
    mkdirSync(dirname(demoCopy), { recursive: true });
    copyFileSync(min, demoCopy);
  }
}
