// Every API call's wire form and result, batching, and errors, against the fake server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, WSGatewayError, UnauthorizedError, TimeoutError, DisconnectedError } from "../dist/index.js";
import { fakeServer, fast, record, waitFor } from "./helpers/fakeserver.mjs";

async function connected(t, opts = {}) {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, ...opts });
  t.after(async () => {
    c.disconnect();
    await srv.close();
  });
  await c.connect();
  return { srv, c };
}

const strip = ({ id, conn, ...cmd }) => cmd;

test("connect sends the token and exposes the server's answer", async (t) => {
  const { srv, c } = await connected(t, { token: "t0" });
  assert.deepEqual(strip(srv.commands[0]), { op: "connect", token: "t0" });
  assert.equal(srv.commands[0].id, 1);
  assert.equal(c.state, "connected");
  assert.deepEqual(c.info, { client: "C0", user: "alice", node: "n1", zone: "z", ping_interval: 25 });
});

test("publish, presence, history and rpc: wire form and results", async (t) => {
  const { srv, c } = await connected(t);
  assert.deepEqual(await c.publish("chat:a", { text: "hi" }, { idempotencyKey: "k1" }), { offset: 1, epoch: "E1" });
  assert.deepEqual(strip(srv.ops("publish")[0]), { op: "publish", channel: "chat:a", data: { text: "hi" }, idempotency_key: "k1" });

  await c.publish("chat:a", "two");
  const key = srv.ops("publish")[1].idempotency_key;
  assert.match(key, /^js-[0-9a-f-]{36}$/, "publish attaches a random idempotency key by itself");

  assert.deepEqual(await c.presence("chat:a"), { users: [{ user: "alice", client: "C0", node: "n1" }], count: 1 });
  assert.deepEqual(strip(srv.ops("presence")[0]), { op: "presence", channel: "chat:a" });
  await c.presence("chat:a", { limit: 1 });
  assert.deepEqual(strip(srv.ops("presence")[1]), { op: "presence", channel: "chat:a", limit: 1 });

  const h = await c.history("chat:a", { since: 0 });
  assert.deepEqual(strip(srv.ops("history")[0]), { op: "history", channel: "chat:a", since: 0 });
  assert.deepEqual(h.publications.map((p) => p.data), [{ text: "hi" }, "two"]);
  assert.equal(h.offset, 2);
  await c.history("chat:a", { limit: 1 });
  assert.deepEqual(strip(srv.ops("history")[1]), { op: "history", channel: "chat:a", limit: 1 });

  assert.deepEqual(await c.rpc("sum", [1, 2]), { echo: [1, 2], method: "sum" }, "rpc resolves to the result's data");
  assert.deepEqual(strip(srv.ops("rpc")[0]), { op: "rpc", method: "sum", data: [1, 2] });

  const ids = srv.commands.map((c) => c.id);
  assert.deepEqual(ids, ids.map((_, i) => i + 1), "ids count up from 1 on a connection");
});

test("commands issued in one tick go out in one frame", async (t) => {
  const { srv, c } = await connected(t);
  const before = srv.frames.length;
  await Promise.all([c.presence("a"), c.presence("b"), c.history("c")]);
  assert.equal(srv.frames.length, before + 1);
  assert.equal(srv.frames[before].split("\n").length, 3);
});

test("several replies and pushes in one frame are all read", async (t) => {
  const { srv, c } = await connected(t);
  srv.handle = (cmd) => (cmd.op == "presence" ? null : undefined);
  const a = c.presence("a");
  const b = c.presence("b");
  await waitFor(() => srv.ops("presence").length == 2, "two presence commands");
  const [ia, ib] = srv.ops("presence").map((x) => x.id);
  srv.last().send({ id: ib, result: { users: [], count: 0 } }, { push: "pub", channel: "x", offset: 1, epoch: "E", data: 1 }, { id: ia, result: { users: [], count: 5 } });
  assert.equal((await a).count, 5);
  assert.equal((await b).count, 0);
});

test("error replies reject with the contract code", async (t) => {
  const { srv, c } = await connected(t);
  const codes = ["permission_denied", "rate_limited", "unavailable", "app_out_of_stock", "unauthorized"];
  srv.handle = (cmd) => (cmd.op == "presence" ? { error: { code: codes[srv.ops("presence").length - 1], message: "no" } } : undefined);
  for (const code of codes) {
    const err = await c.presence("a").then(() => assert.fail("resolved"), (e) => e);
    assert.ok(err instanceof WSGatewayError, code);
    assert.equal(err.code, code);
    assert.match(err.message, /^presence: no$/);
    assert.equal(err instanceof UnauthorizedError, code == "unauthorized");
  }
});

test("a call without a reply rejects with TimeoutError", async (t) => {
  const { srv, c } = await connected(t, { timeout: 100 });
  srv.handle = (cmd) => (cmd.op == "history" ? null : undefined);
  const err = await c.history("a").catch((e) => e);
  assert.ok(err instanceof TimeoutError);
  assert.equal(err.code, "timeout");
  assert.equal(c.state, "connected", "a timeout does not drop the connection");
});

test("calls in flight when the connection drops reject with DisconnectedError; later calls wait for the reconnect", async (t) => {
  const { srv, c } = await connected(t);
  srv.handle = (cmd) => (cmd.op == "presence" && cmd.conn == 0 ? null : undefined);
  const p = c.presence("a");
  await waitFor(() => srv.ops("presence").length, "presence sent");
  srv.last().close(1011, "boom");
  const err = await p.catch((e) => e);
  assert.ok(err instanceof DisconnectedError);
  assert.equal(err.closeCode, 1011);
  assert.equal((await c.presence("a")).count, 1, "a call made while reconnecting is sent once connected");
  assert.equal(srv.conns.length, 2);
});

test("calls made before connect() are sent once connected", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, fast);
  t.after(async () => (c.disconnect(), await srv.close()));
  const p = c.publish("chat:a", 1);
  await c.connect();
  assert.deepEqual(await p, { offset: 1, epoch: "E1" });
});

test("disconnect() rejects pending calls, stops, and leaves the state disconnected", async (t) => {
  const { srv, c } = await connected(t);
  const states = record(c, "state");
  srv.handle = (cmd) => (cmd.op == "presence" ? null : undefined);
  const p = c.presence("a");
  c.disconnect();
  const err = await p.catch((e) => e);
  assert.ok(err instanceof DisconnectedError);
  assert.deepEqual(states, [{ state: "disconnected" }]);
  await waitFor(() => srv.conns[0].closed, "the socket closed");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(srv.conns.length, 1, "no reconnect after disconnect()");
});

// A call after disconnect() or a terminal close has no connection to wait for:
// it rejects at once (timeout is an hour here, so waiting for it would hang the test).
test("a call while disconnected by the user or closed rejects at once with DisconnectedError", async (t) => {
  const { srv, c } = await connected(t, { timeout: 3_600_000 });
  c.disconnect();
  for (const call of [() => c.publish("chat:a", 1), () => c.presence("chat:a"), () => c.history("chat:a"), () => c.rpc("m")]) {
    const err = await call().then(() => assert.fail("resolved"), (e) => e);
    assert.ok(err instanceof DisconnectedError, `${err}`);
    assert.match(err.message, /the client is disconnected; call connect\(\) first/);
  }

  srv.handle = (cmd, conn) => (cmd.op == "connect" ? (setTimeout(() => conn.close(4003, "bye"), 0), null) : undefined);
  await c.connect().then(() => assert.fail("connected"), () => {});
  assert.equal(c.state, "closed");
  const err = await c.presence("chat:a").then(() => assert.fail("resolved"), (e) => e);
  assert.ok(err instanceof DisconnectedError);
  assert.match(err.message, /presence: the client is closed/);

  // once connect() is called again, calls wait for the connection and go through, as before
  srv.handle = () => undefined;
  const connecting = c.connect();
  const p = c.presence("chat:a");
  await connecting;
  assert.equal((await p).count, 1);
});
