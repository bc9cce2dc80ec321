// Subscriptions: states, reference counting, recovery after reconnects,
// client-side offset checks (gap, duplicate, epoch), positions across a reload,
// and publish retried with its idempotency key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "../dist/index.js";
import { fakeServer, fast, memoryStorage, record, waitFor } from "./helpers/fakeserver.mjs";

async function setup(t, opts = {}) {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, ...opts });
  t.after(async () => (c.disconnect(), await srv.close()));
  return { srv, c };
}

const offsets = (pubs) => pubs.map((p) => p.offset);
const strip = ({ id, conn, ...cmd }) => cmd;

test("subscribe before connect: subscribing, then subscribed; publications arrive with their fields", async (t) => {
  const { srv, c } = await setup(t);
  const sub = c.subscribe("chat:a");
  const states = record(sub, "state");
  const pubs = record(sub, "publication");
  assert.equal(sub.state, "subscribing");
  await c.connect();
  await sub.ready();
  assert.deepEqual(strip(srv.ops("subscribe")[0]), { op: "subscribe", channel: "chat:a" });
  assert.deepEqual(states, [{ state: "subscribed", recovered: false, wasRecovering: false }]);
  srv.publish("chat:a", { text: "hi" }, "bob");
  srv.publish("chat:a", "api");
  await waitFor(() => pubs.length == 2, "two publications");
  assert.deepEqual(pubs, [
    { channel: "chat:a", offset: 1, epoch: "E1", data: { text: "hi" }, user: "bob" },
    { channel: "chat:a", offset: 2, epoch: "E1", data: "api" },
  ]);
  assert.ok(!("user" in pubs[1]), "a publication from the API has no user");
});

test("handles of one channel share one server subscription, counted", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  const a = c.subscribe("chat:a");
  const b = c.subscribe("chat:a");
  await Promise.all([a.ready(), b.ready()]);
  const pa = record(a, "publication");
  const pb = record(b, "publication");
  srv.publish("chat:a", 1);
  await waitFor(() => pa.length && pb.length, "both handles get the publication");
  a.unsubscribe();
  assert.equal(a.state, "unsubscribed");
  await c.presence("x"); // a round trip: anything sent by now has arrived
  assert.equal(srv.ops("subscribe").length, 1);
  assert.equal(srv.ops("unsubscribe").length, 0, "b still uses the channel");
  b.unsubscribe();
  await waitFor(() => srv.ops("unsubscribe").length == 1, "the last handle unsubscribes the server");
});

test("subscribe, unsubscribe, subscribe in one tick (React StrictMode) does not churn the server", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  c.subscribe("chat:a").unsubscribe();
  const s = c.subscribe("chat:a");
  await s.ready();
  const s2 = c.subscribe("chat:b");
  await s2.ready();
  s2.unsubscribe();
  const s3 = c.subscribe("chat:b");
  assert.equal(s3.state, "subscribed", "a new handle on a live subscription is subscribed at once");
  await c.presence("x");
  assert.deepEqual(srv.ops("subscribe").map((x) => x.channel), ["chat:a", "chat:b"]);
  assert.equal(srv.ops("unsubscribe").length, 0);
});

test("after a reconnect each channel recovers from its offset: the reply's publications, then live ones", async (t) => {
  const { srv, c } = await setup(t);
  const sub = c.subscribe("chat:a");
  const pubs = record(sub, "publication");
  const states = record(sub, "state");
  await c.connect();
  await sub.ready();
  for (let i = 1; i <= 3; i++) srv.publish("chat:a", i);
  await waitFor(() => pubs.length == 3, "three publications");
  srv.last().subs.delete("chat:a"); // 4 and 5 never reach this connection: missed while away
  srv.publish("chat:a", 4);
  srv.publish("chat:a", 5);
  srv.last().drop();
  await waitFor(() => sub.state == "subscribed" && srv.conns.length == 2, "resubscribed");
  srv.publish("chat:a", 6);
  await waitFor(() => pubs.length == 6, "six publications");
  assert.deepEqual(offsets(pubs), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(strip(srv.ops("subscribe")[1]), { op: "subscribe", channel: "chat:a", recover: true, offset: 3, epoch: "E1" });
  assert.deepEqual(states.slice(1), [{ state: "subscribing" }, { state: "subscribed", recovered: true, wasRecovering: true }]);
});

test("recovery failure is reported as subscribed, recovered:false, wasRecovering:true", async (t) => {
  const { srv, c } = await setup(t);
  const sub = c.subscribe("chat:a");
  const states = record(sub, "state");
  await c.connect();
  await sub.ready();
  srv.channel("chat:a").epoch = "E2"; // history lost
  srv.last().close(1012, "drain");
  await waitFor(() => states.length == 3, "resubscribed");
  assert.deepEqual(states[2], { state: "subscribed", recovered: false, wasRecovering: true });
  const pubs = record(sub, "publication");
  srv.publish("chat:a", "after");
  await waitFor(() => pubs.length == 1, "live publications continue in the new epoch");
});

test("a gap in offsets resubscribes with recovery; a duplicate or older offset is dropped", async (t) => {
  const { srv, c } = await setup(t);
  const sub = c.subscribe("chat:a");
  const pubs = record(sub, "publication");
  await c.connect();
  await sub.ready();
  srv.publish("chat:a", 1);
  srv.publish("chat:a", 2);
  await waitFor(() => pubs.length == 2, "two");
  const conn = srv.last();
  const p2 = srv.channel("chat:a").pubs[1];
  conn.send({ push: "pub", ...p2 }, { push: "pub", ...srv.channel("chat:a").pubs[0] }); // duplicates
  // 3 is published but never pushed: the client sees 4 after 2
  conn.subs.delete("chat:a");
  srv.publish("chat:a", 3);
  conn.subs.add("chat:a");
  const before = srv.frames.length;
  srv.publish("chat:a", 4);
  await waitFor(() => pubs.length == 4, "3 and 4 recovered");
  assert.deepEqual(offsets(pubs), [1, 2, 3, 4]);
  const frame = srv.frames.slice(before).find((f) => f.includes('"unsubscribe"'));
  assert.deepEqual(
    frame.split("\n").map((l) => strip(JSON.parse(l))),
    [
      { op: "unsubscribe", channel: "chat:a" },
      { op: "subscribe", channel: "chat:a", recover: true, offset: 2, epoch: "E1" },
    ],
    "the gap ends the subscription and recovers from the last offset, in one frame",
  );
});

test("an unsub push for insufficient_state subscribes again with recovery", async (t) => {
  const { srv, c } = await setup(t);
  const sub = c.subscribe("chat:a");
  const states = record(sub, "state");
  await c.connect();
  await sub.ready();
  srv.publish("chat:a", 1);
  srv.last().send({ push: "unsub", channel: "chat:a", reason: "insufficient_state" });
  await waitFor(() => srv.ops("subscribe").length == 2, "subscribed again");
  assert.deepEqual(strip(srv.ops("subscribe")[1]), { op: "subscribe", channel: "chat:a", recover: true, offset: 1, epoch: "E1" });
  await waitFor(() => states.at(-1).state == "subscribed", "subscribed");
  assert.equal(srv.ops("unsubscribe").length, 0);
});

test("an unsub push for another reason ends the subscription", async (t) => {
  const { srv, c } = await setup(t);
  const sub = c.subscribe("chat:a");
  await c.connect();
  await sub.ready();
  srv.last().send({ push: "unsub", channel: "chat:a", reason: "revoked" });
  await waitFor(() => sub.state == "unsubscribed", "unsubscribed");
  await assert.rejects(sub.ready(), { code: "unsubscribed" });
});

test("a refused subscribe rejects ready() with the error", async (t) => {
  const { srv, c } = await setup(t);
  srv.handle = (cmd) => (cmd.op == "subscribe" ? { error: { code: "permission_denied", message: "no" } } : undefined);
  const sub = c.subscribe("news");
  c.connect();
  await assert.rejects(sub.ready(), { code: "permission_denied" });
  assert.equal(sub.state, "unsubscribed");
});

test("positions survive a reload through sessionStorage", async (t) => {
  const storage = memoryStorage();
  const { srv, c } = await setup(t, { storage, name: "app" });
  const sub = c.subscribe("chat:a");
  const pubs = record(sub, "publication");
  await c.connect();
  await sub.ready();
  srv.publish("chat:a", 1);
  srv.publish("chat:a", 2);
  await waitFor(() => pubs.length == 2, "two");
  c.disconnect(); // a page's pagehide saves the same way (lifecycle.test.mjs)
  assert.deepEqual(JSON.parse(storage.getItem("wsgateway:app")), { "chat:a": [2, "E1"] });
  srv.publish("chat:a", 3);

  const c2 = new Client(srv.url, { ...fast, storage, name: "app" });
  t.after(() => c2.disconnect());
  const sub2 = c2.subscribe("chat:a");
  const states = record(sub2, "state");
  const pubs2 = record(sub2, "publication");
  await c2.connect();
  await waitFor(() => pubs2.length == 1, "the missed publication");
  assert.equal(pubs2[0].offset, 3);
  assert.deepEqual(states, [{ state: "subscribed", recovered: true, wasRecovering: true }]);
});

test("publish is retried with the same idempotency key after a dropped connection", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  srv.handle = (cmd, conn) => (cmd.op == "publish" && conn.index == 0 ? (conn.drop(), null) : undefined);
  const pos = await c.publish("chat:a", "once");
  const sent = srv.ops("publish");
  assert.equal(sent.length, 2);
  assert.equal(sent[0].idempotency_key, sent[1].idempotency_key);
  assert.deepEqual(pos, { offset: 1, epoch: "E1" });
  assert.equal(srv.channel("chat:a").pubs.length, 1);
});

test("publish is retried with the same key after unavailable", async (t) => {
  const { srv, c } = await setup(t);
  await c.connect();
  srv.handle = (cmd) => (cmd.op == "publish" && srv.ops("publish").length < 3 ? { error: { code: "unavailable", message: "redis" } } : undefined);
  assert.deepEqual(await c.publish("chat:a", "x", { idempotencyKey: "k" }), { offset: 1, epoch: "E1" });
  assert.deepEqual(srv.ops("publish").map((p) => p.idempotency_key), ["k", "k", "k"]);
});

test("a publish retried until its timeout rejects with TimeoutError", async (t) => {
  const { srv, c } = await setup(t, { timeout: 150 });
  await c.connect();
  srv.handle = (cmd) => (cmd.op == "publish" ? { error: { code: "unavailable", message: "redis" } } : undefined);
  await assert.rejects(c.publish("chat:a", "x"), { code: "timeout" });
});
