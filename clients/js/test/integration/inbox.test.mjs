// The inbox and join/leave pushes (issue 13) against a real node with a
// real redis-server (testenv -redis), and a real worker: the Go worker
// library's example (examples/worker), built here and run as a process
// pointed at testenv's Redis and the node's API, which answers each message
// with {echo: data, id}.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TimeoutError } from "../../dist/index.js";
import { repoRoot, resultsDir } from "../browser/testenv.mjs";
import { apiKey, bounded, channel, newClient, record, startEnv, token, waitFor } from "./env.mjs";

let env;
let dir;
let worker;

const sender = (sub) => token(sub, { send: ["orders", "nobody"] });

before(async () => {
  env = await startEnv("inbox", { redis: true, args: ["--join-leave-namespaces", "chat"] });
  assert.ok(env.info.redis, "testenv -redis reports its Redis URL");
  dir = mkdtempSync(join(tmpdir(), "wsg-inbox-"));
  const bin = join(dir, "worker");
  execFileSync("go", ["build", "-o", bin, "./examples/worker"], { cwd: repoRoot, stdio: "inherit", timeout: 300_000 });
  mkdirSync(join(resultsDir, "logs/integration/inbox"), { recursive: true });
  const log = openSync(join(resultsDir, "logs/integration/inbox/worker.log"), "w");
  worker = spawn(bin, ["--redis-url", env.info.redis, "--topic", "orders", "--api-url", env.info.nodes[0].api, "--api-key", apiKey], {
    stdio: ["ignore", log, log],
  });
});
after(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((ok) => worker.once("exit", ok));
    process.kill(worker.pid, "SIGTERM");
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
  }
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("sendAndWait resolves to the worker's reply; send's replies come as reply events", bounded, async (t) => {
  // until the worker's first heartbeat the node answers unavailable: send retries that, within its timeout
  const c = newClient(t, env.info.nodes[0].ws, { token: sender("alice"), timeout: 20_000 });
  await c.connect();
  const answer = await c.sendAndWait("orders", { sku: "A1" });
  assert.deepEqual(answer.echo, { sku: "A1" });
  assert.match(answer.id, /^orders\/\d+\/\d+-\d+$/);

  const replies = record(c, "reply");
  const sent = await c.send("orders", { n: 2 }, { idempotencyKey: "alice-2" });
  assert.equal(sent.duplicate, false);
  await waitFor("the reply event", () => replies.length);
  assert.deepEqual(replies, [{ id: sent.id, data: { echo: { n: 2 }, id: sent.id } }]);
  assert.deepEqual(await c.send("orders", { n: 2 }, { idempotencyKey: "alice-2" }), { id: sent.id, duplicate: true });
});

test("send without the send claim for the topic is permission_denied, not retried", bounded, async (t) => {
  const c = newClient(t, env.info.nodes[0].ws, { token: token("carol") });
  await c.connect();
  await assert.rejects(c.send("orders", 1), { code: "permission_denied" });
});

test("send to a topic no worker consumes: unavailable, retried until the timeout, which names it", bounded, async (t) => {
  const c = newClient(t, env.info.nodes[0].ws, { token: sender("dave"), timeout: 1500 });
  await c.connect();
  const err = await c.send("nobody", 1).then(() => assert.fail("resolved"), (e) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.match(err.message, /last answer: unavailable: /);
});

test("join and leave events of a chat channel name the other connection", bounded, async (t) => {
  const ch = channel("chat");
  const alice = newClient(t, env.info.nodes[0].ws, { token: token("alice") });
  const bob = newClient(t, env.info.nodes[0].ws, { token: token("bob") });
  await Promise.all([alice.connect(), bob.connect()]);
  const sub = alice.subscribe(ch);
  const joins = record(sub, "join");
  const leaves = record(sub, "leave");
  await sub.ready();
  const bobSub = bob.subscribe(ch);
  await bobSub.ready();
  const want = { channel: ch, user: "bob", client: bob.info.client };
  await waitFor("bob's join", () => joins.some((j) => j.user == "bob"));
  assert.deepEqual(joins.filter((j) => j.user == "bob"), [want]);
  bobSub.unsubscribe();
  await waitFor("bob's leave", () => leaves.length);
  assert.deepEqual(leaves, [want]);
  assert.equal(sub.state, "subscribed");
});
