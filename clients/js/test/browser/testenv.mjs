// Real gateways for the JavaScript tests, from the repository's one harness:
// the Go command service/cmd/testenv (gatewaytest, redistest, HAProxy), not
// a second harness written in Node. It prints one JSON line describing what
// runs, takes JSON commands on stdin, and stops everything when its stdin
// ends, so a test process that dies leaves nothing running.
//
//   const env = await startTestenv({ nodes: 2, redis: true, gatewayArgs: ["--dev"] });
//   env.info.nodes[0].ws                      // ws://127.0.0.1:P/ws
//   await env.command({ op: "kill", node: 1 });
//   await env.close();
//
// The binary is $WSG_TESTENV (make test-js sets it to bin/testenv), else it
// is built with `go build` into a temporary directory; the gateway is
// $WSG_GATEWAY (bin/wsgateway), else testenv's own build of it.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository's root (clients/js/test/browser/../../../..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
/** Where tests keep their artifacts (git-ignored): screenshots, logs. */
export const resultsDir = resolve(repoRoot, "clients/js/test-results");

// The first line waits for Redis, the nodes and HAProxy, and perhaps a
// go build of the gateway; each command's answer for one node's change.
const startTimeoutMs = 180_000;
const commandTimeoutMs = 90_000;

let built; // the path of a testenv built by this process, once

function testenvBinary() {
  if (process.env.WSG_TESTENV) return process.env.WSG_TESTENV;
  if (!built) {
    built = join(mkdtempSync(join(tmpdir(), "wsg-testenv-")), "testenv");
    execFileSync("go", ["build", "-o", built, "./service/cmd/testenv"], { cwd: repoRoot, stdio: "inherit" });
  }
  return built;
}

/**
 * startTestenv starts the environment and resolves once it is ready.
 * name labels its logs: test-results/logs/<name>/ holds one file per process.
 */
export async function startTestenv({ name = "testenv", nodes = 1, redis = false, lb = false, hooksExample = false, gatewayArgs = [] } = {}) {
  const logs = join(resultsDir, "logs", name);
  mkdirSync(logs, { recursive: true });
  const args = ["-nodes", String(nodes), "-logs", logs];
  if (redis) args.push("-redis");
  if (lb) args.push("-lb");
  if (hooksExample) args.push("-hooks-example"); // the reference backend, info.backend (service/cmd/testenv/hooks.go)
  if (process.env.WSG_GATEWAY) args.push("-gateway", process.env.WSG_GATEWAY);
  args.push("--", ...gatewayArgs);
  const child = spawn(testenvBinary(), args, { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-8000)));
  const exited = new Promise((res) => child.on("exit", (code, signal) => res(code ?? signal)));
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on("line", (line) => waiting.shift()?.resolve(line));
  exited.then((code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`testenv exited (${code}):\n${stderr}`));
  });

  function nextLine(timeoutMs, what) {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`testenv: no answer to ${what} within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      waiting.push({
        resolve: (l) => (clearTimeout(timer), res(JSON.parse(l))),
        reject: (e) => (clearTimeout(timer), rej(e)),
      });
    });
  }

  let info;
  try {
    info = await nextLine(startTimeoutMs, "the start");
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    info,
    logs,
    /** command sends one command ({op, node, ...}) and resolves to its answer; an {error} answer rejects. */
    async command(cmd) {
      const answer = nextLine(commandTimeoutMs, JSON.stringify(cmd));
      child.stdin.write(JSON.stringify(cmd) + "\n");
      const a = await answer;
      if (a.error) throw new Error(`testenv ${cmd.op}: ${a.error}`);
      return a;
    },
    /** close ends stdin, so testenv stops everything, and resolves to its exit code. */
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), commandTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
