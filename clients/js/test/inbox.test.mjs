// The inbox (issue 13) against the fake server: send and its idempotency
// key across retries, the reply event, sendAndWait (including a reply that
// comes before the send answer), and a subscription's join and leave events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, TimeoutError, WSGatewayError } from "../dist/index.js";
import { fakeServer, fast, record, waitFor } from "./helpers/fakeserver.mjs";

async function setup(t, opts = {}) {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, ...opts });
  t.after(async () => (c.disconnect(), await srv.close()));
  return { srv, c };
}

const strip = ({ id, conn, ...cmd }) => cmd;

test("send resolves to the message id; each call has its own idempotency key", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  assert.deepEqual(await c.send("orders", { sku: "A1" }), { id: "orders/0/1-0", duplicate: false });
  assert.deepEqual(await c.send("orders", { sku: "A1" }), { id: "orders/0/2-0", duplicate: false });
  const [a, b] = srv.ops("send");
  assert.deepEqual(strip({ ...a, idempotency_key: undefined }), { op: "send", topic: "orders", data: { sku: "A1" }, idempotency_key: undefined });
  assert.match(a.idempotency_key, /^js-/);
  assert.notEqual(a.idempotency_key, b.idempotency_key);
});

test("send is retried with the same key after a dropped connection: the server answers the first id", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  // the first connection queues the message and drops before answering
  srv.handle = (cmd, conn) => {
    if (cmd.op != "send" || conn.index != 0) return undefined;
    srv.inbox.push({ id: "orders/0/1-0", topic: cmd.topic, data: cmd.data, key: cmd.idempotency_key, conn: 0 });
    conn.drop();
    return null;
  };
  assert.deepEqual(await c.send("orders", 1), { id: "orders/0/1-0", duplicate: true });
  const sent = srv.ops("send");
  assert.equal(sent.length, 2);
  assert.equal(sent[0].idempotency_key, sent[1].idempotency_key);
  assert.equal(srv.inbox.length, 1);
});

test("send is retried with the same key after unavailable; at the timeout the error tells the last answer", async (t) => {
  const { srv, c } = await setup(t, { timeout: 300 });
  await c.connect();
  srv.handle = (cmd) => (cmd.op == "send" && srv.ops("send").length < 3 ? { error: { code: "unavailable", message: "no worker" } } : undefined);
  assert.equal((await c.send("orders", 1, { idempotencyKey: "k" })).duplicate, false);
  assert.deepEqual(srv.ops("send").map((s) => s.idempotency_key), ["k", "k", "k"]);

  srv.handle = (cmd) => (cmd.op == "send" ? { error: { code: "unavailable", message: "no worker of topic orders" } } : undefined);
  const err = await c.send("orders", 2).then(() => assert.fail("resolved"), (e) => e);
  assert.ok(err instanceof TimeoutError);
  assert.match(err.message, /^send: no reply within 300 ms \(last answer: unavailable: no worker of topic orders\)$/);
});

test("send is not retried after an error other than unavailable", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  srv.handle = (cmd) => (cmd.op == "send" ? { error: { code: "permission_denied", message: "no send claim" } } : undefined);
  await assert.rejects(c.send("orders", 1), { code: "permission_denied", message: "send: no send claim" });
  assert.equal(srv.ops("send").length, 1);
});

test("replies come as reply events, with data or a WSGatewayError", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  const replies = record(c, "reply");
  const { id } = await c.send("orders", 1);
  srv.reply(id, { data: { ok: 1 } });
  srv.reply(id, { error: { code: "app_out_of_stock", message: "none left" } });
  await waitFor(() => replies.length == 2, "two replies");
  assert.deepEqual(replies[0], { id, data: { ok: 1 } });
  assert.ok(replies[1].error instanceof WSGatewayError);
  assert.deepEqual([replies[1].id, replies[1].error.code, replies[1].error.message], [id, "app_out_of_stock", "send: none left"]);
});

test("sendAndWait resolves to the reply's data, which is no reply event", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  const replies = record(c, "reply");
  srv.handle = (cmd) => {
    if (cmd.op == "send") setTimeout(() => srv.reply(srv.inbox.at(-1).id, { data: { echo: cmd.data } }), 20);
    return undefined;
  };
  assert.deepEqual(await c.sendAndWait("orders", "hi"), { echo: "hi" });
  await c.presence("x"); // a reply event would have come by now
  assert.deepEqual(replies, []);
});

test("sendAndWait rejects with the reply's error", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  srv.handle = (cmd) => {
    if (cmd.op == "send") setTimeout(() => srv.reply(srv.inbox.at(-1).id, { error: { code: "internal", message: "failed 5 times" } }), 20);
    return undefined;
  };
  await assert.rejects(c.sendAndWait("orders", 1), { code: "internal", message: "send: failed 5 times" });
});

test("sendAndWait takes a reply that came before the send answer", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  const replies = record(c, "reply");
  // a very fast worker: the reply push is in the frame before the result that names its id
  srv.handle = (cmd, conn) => {
    if (cmd.op != "send") return undefined;
    const id = `orders/0/${cmd.id}-0`;
    conn.send({ push: "reply", id, data: "early" }, { id: cmd.id, result: { id, duplicate: false } });
    return null;
  };
  assert.equal(await c.sendAndWait("orders", 1), "early");
  assert.equal(replies.length, 1, "the early reply was a reply event too: it came before anyone could claim it");
  // taken once: another message with the same id would wait for a new reply
  await assert.rejects(
    (async () => {
      srv.handle = (cmd) => (cmd.op == "send" ? { result: { id: replies[0].id, duplicate: true } } : undefined);
      await c.sendAndWait("orders", 1, { timeout: 100 });
    })(),
    TimeoutError,
  );
});

test("sendAndWait rejects with its timeout when no reply comes", async (t) => {
  const { c } = await setup(t);
  await c.connect();
  await assert.rejects(c.sendAndWait("orders", 1, { timeout: 100 }), { code: "timeout", message: "send orders: no reply to orders/0/1-0 within 100 ms" });
});

test("sendAndWait rejects when the connection drops or disconnect() is called: the reply can no longer reach it", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  const p = c.sendAndWait("orders", 1, { timeout: 5000 });
  await waitFor(() => srv.inbox.length, "queued");
  await new Promise((r) => setTimeout(r, 20)); // the send answer is in
  srv.conns[0].drop();
  await assert.rejects(p, { code: "disconnected" });

  await waitFor(() => c.state == "connected", "reconnected");
  const q = c.sendAndWait("orders", 2, { timeout: 5000 });
  await waitFor(() => srv.inbox.length == 2, "queued");
  await new Promise((r) => setTimeout(r, 20));
  c.disconnect();
  await assert.rejects(q, { code: "disconnected" });
});

test("join and leave pushes are events of every handle of their channel, and change nothing else", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  const a = c.subscribe("chat:a");
  const a2 = c.subscribe("chat:a");
  const b = c.subscribe("chat:b");
  await Promise.all([a.ready(), a2.ready(), b.ready()]);
  const seen = { aj: record(a, "join"), al: record(a, "leave"), a2j: record(a2, "join"), bj: record(b, "join"), pubs: record(a, "publication") };
  srv.last().send(
    { push: "join", channel: "chat:a", user: "bob", client: "C9" },
    { push: "leave", channel: "chat:a", user: "bob", client: "C9" },
    { push: "join", channel: "chat:other", user: "bob", client: "C9" },
  );
  srv.publish("chat:a", "after");
  await waitFor(() => seen.pubs.length, "the publication after them");
  const bob = { channel: "chat:a", user: "bob", client: "C9" };
  assert.deepEqual(seen.aj, [bob]);
  assert.deepEqual(seen.a2j, [bob]);
  assert.deepEqual(seen.al, [bob]);
  assert.deepEqual(seen.bj, []);
  assert.equal(seen.pubs[0].offset, 1);
  assert.equal(srv.ops("subscribe").length, 2);
});
