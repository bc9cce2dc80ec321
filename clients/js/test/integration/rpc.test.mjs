// rpc against a real node whose --hooks-config points at a backend served by
// this test process (node:http on 127.0.0.1): the result's data, a backend's
// own error code as a typed error, and not_found for a method no backend
// serves.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WSGatewayError } from "../../dist/index.js";
import { bounded, newClient, startEnv, token } from "./env.mjs";

let env;
let backend;
let dir;
const calls = []; // [path, body] of every hook call the backend received

before(async () => {
  backend = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const b = JSON.parse(body);
      calls.push([req.url, b]);
      const answer =
        b.method == "echo:upper"
          ? { result: { data: { text: String(b.data.text).toUpperCase(), user: b.user } } }
          : { error: { code: "app_refused", message: `${b.method} refused` } };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise((ok) => backend.listen(0, "127.0.0.1", ok));
  dir = mkdtempSync(join(tmpdir(), "wsg-rpc-"));
  const hooks = join(dir, "hooks.yaml");
  writeFileSync(
    hooks,
    [
      "endpoints:",
      "  app:",
      `    url: http://127.0.0.1:${backend.address().port}/wsgateway`,
      "    timeout: 5s",
      "rpc:",
      "  echo: {endpoint: app}",
      "",
    ].join("\n"),
  );
  env = await startEnv("rpc", { args: ["--hooks-config", hooks] });
});
after(async () => {
  await env?.close();
  backend?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("rpc resolves to the backend's data; the backend got the method, data and user", bounded, async (t) => {
  const c = newClient(t, env.info.nodes[0].ws, { token: token("alice") });
  await c.connect();
  assert.deepEqual(await c.rpc("echo:upper", { text: "hi" }), { text: "HI", user: "alice" });
  const [path, body] = calls.at(-1);
  assert.equal(path, "/wsgateway/rpc");
  assert.deepEqual(
    { hook: body.hook, method: body.method, data: body.data, user: body.user, client: body.client },
    { hook: "rpc", method: "echo:upper", data: { text: "hi" }, user: "alice", client: c.info.client },
  );
});

test("rpc rejects with the backend's error code, and not_found for a method without a backend", bounded, async (t) => {
  const c = newClient(t, env.info.nodes[0].ws, { token: token("alice") });
  await c.connect();
  await assert.rejects(c.rpc("echo:fail", 1), (e) => e instanceof WSGatewayError && e.code == "app_refused");
  const before = calls.length;
  await assert.rejects(c.rpc("billing:charge", 1), (e) => e instanceof WSGatewayError && e.code == "not_found");
  assert.equal(calls.length, before, "no hook call for a method without a backend");
  assert.equal(c.state, "connected");
});
