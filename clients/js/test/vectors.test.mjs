// The shared wire vectors (service/protocol/testdata/vectors.json): the
// library decodes every reply, error and push with the values shown, and
// what it encodes for the commands it sends decodes as the accepted command
// vectors do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Client, UnauthorizedError, WSGatewayError } from "../dist/index.js";
import { fakeServer, fast, memoryStorage, record, waitFor } from "./helpers/fakeserver.mjs";

const V = JSON.parse(readFileSync(new URL("../../../service/protocol/testdata/vectors.json", import.meta.url)));
const EPOCH = "5f1d3c9a0b7e2468";

/** session starts a fake server whose replies to op are the vector's line, with the command's id put in. */
async function session(t, opts = {}, op, line) {
  const srv = await fakeServer({ pingInterval: opts.pingInterval || 25 });
  if (op)
    srv.handle = (cmd, conn) => {
      if (cmd.op != op) return undefined;
      conn.send(line.replace(/^\{"id":\d+/, `{"id":${cmd.id}`));
      return null;
    };
  const c = new Client(srv.url, { ...fast, ...opts });
  t.after(async () => (c.disconnect(), await srv.close()));
  return { srv, c };
}

const result = (line) => JSON.parse(line).result;
const withoutId = ({ id, conn, ...rest }) => rest;

test("every reply vector decodes with the values shown", async (t) => {
  for (const v of V.replies) {
    await t.test(v.name, async (t) => {
      const want = result(v.line);
      const storage = memoryStorage();
      storage.setItem("wsgateway:v", JSON.stringify({ "chat:lobby": [43, EPOCH] }));
      const { srv, c } = await session(t, { storage, name: "v", pingInterval: 1 }, v.op, v.line);
      await c.connect();
      switch (v.op) {
        case "connect":
          assert.deepEqual(c.info, want);
          break;
        case "subscribe": {
          const sub = c.subscribe("chat:lobby");
          const states = record(sub, "state");
          const pubs = record(sub, "publication");
          await sub.ready();
          await c.presence("x"); // publications of the reply are delivered by now
          const data = want.data === undefined ? {} : { data: want.data }; // the subscribe hook's
          assert.deepEqual(states, [{ state: "subscribed", recovered: want.recovered, wasRecovering: true, ...data }]);
          assert.deepEqual(pubs, want.publications);
          break;
        }
        case "unsubscribe": {
          const sub = c.subscribe("chat:lobby");
          await sub.ready();
          sub.unsubscribe();
          await waitFor(() => srv.ops("unsubscribe").length, "unsubscribe sent");
          await c.presence("x");
          assert.equal(c.state, "connected");
          break;
        }
        case "publish":
          assert.deepEqual(await c.publish("chat:lobby", 1), want);
          break;
        case "presence":
          assert.deepEqual(await c.presence("chat:lobby"), want);
          break;
        case "history":
          assert.deepEqual(await c.history("chat:lobby"), want);
          break;
        case "rpc":
          assert.deepEqual(await c.rpc("billing:charge", { amount: 5 }), want.data, "rpc resolves to the result's data");
          break;
        case "ping":
          await waitFor(() => srv.ops("ping").length >= 2, "two pings answered in turn", 3000);
          assert.equal(srv.conns.length, 1);
          break;
        case "send":
          assert.deepEqual(await c.send("orders", { sku: "A1", qty: 2 }), want);
          break;
        case "refresh":
          // the library sends refresh only before a token's exp: tokens.test.mjs drives it; here the
          // reply must settle the call the same way a ping's does
          assert.deepEqual(result(v.line), {});
          break;
        default:
          assert.fail(`no check for a reply to ${v.op}: add one`);
      }
    });
  }
});

test("every error vector rejects with its code and message", async (t) => {
  for (const v of V.errors) {
    await t.test(v.name, async (t) => {
      const e = JSON.parse(v.line).error;
      const { srv, c } = await session(t, { timeout: 300 }, "presence", v.line);
      await c.connect();
      const p = c.presence("chat:lobby");
      if (!/^\{"id":/.test(v.line)) {
        // without an id it answers no call: the call is still waiting, and the connection lives
        await waitFor(() => srv.ops("presence").length, "sent");
        await assert.rejects(p, { code: "timeout" });
        assert.equal(c.state, "connected");
        return;
      }
      const err = await p.then(() => assert.fail("resolved"), (x) => x);
      assert.ok(err instanceof WSGatewayError);
      assert.equal(err.code, e.code);
      assert.equal(err.message, `presence: ${e.message}`);
      assert.equal(err instanceof UnauthorizedError, e.code == "unauthorized");
    });
  }
});

test("every push vector is delivered or acted on", async (t) => {
  for (const v of V.pushes) {
    await t.test(v.name, async (t) => {
      const push = JSON.parse(v.line);
      const { srv, c } = await session(t);
      if (push.push == "reply") {
        // a worker's answer to a sent message: no channel, a string id; the error is a WSGatewayError
        await c.connect();
        const replies = record(c, "reply");
        srv.last().send(v.line);
        await waitFor(() => replies.length, "the reply");
        const [r] = replies;
        assert.deepEqual(Object.keys(r).sort(), Object.keys(push).filter((k) => k != "push").sort());
        assert.equal(r.id, push.id);
        if (push.error) {
          assert.ok(r.error instanceof WSGatewayError);
          assert.equal(r.error.code, push.error.code);
          assert.equal(r.error.message, `send: ${push.error.message}`);
        } else assert.deepEqual(r.data, push.data);
        return;
      }
      srv.handle = (cmd) =>
        cmd.op == "subscribe"
          ? { result: { offset: push.offset ? push.offset - 1 : 45, epoch: EPOCH, recovered: false, publications: [] } }
          : undefined;
      await c.connect();
      const sub = c.subscribe(push.channel);
      const pubs = record(sub, "publication");
      const joinLeave = record(sub, push.push);
      await sub.ready();
      srv.last().send(v.line);
      if (push.push == "join" || push.push == "leave") {
        await waitFor(() => joinLeave.length, `the ${push.push} event`);
        const { push: _, ...want } = push;
        assert.deepEqual(joinLeave, [want]);
        await c.presence("x"); // anything it did to the subscription has happened by now
        assert.equal(sub.state, "subscribed");
        assert.equal(srv.ops("subscribe").length, 1, "a join or leave push does not resubscribe");
      } else if (push.push == "pub") {
        await waitFor(() => pubs.length, "the publication");
        const { push: _, ...want } = push;
        assert.deepEqual(pubs, [want]);
        assert.equal("user" in pubs[0], "user" in push);
      } else {
        await waitFor(() => srv.ops("subscribe").length == 2, "subscribed again");
        assert.deepEqual(withoutId(srv.ops("subscribe")[1]), { op: "subscribe", channel: push.channel, recover: true, offset: 45, epoch: EPOCH });
      }
    });
  }
});

// How to make the library send each accepted command vector; null for the
// forms it never sends (it always attaches an idempotency key; it sends no unknown fields).
const drivers = {
  "connect with token": (v) => ({ opts: { token: JSON.parse(v.line).token } }),
  "connect without token": () => ({}),
  subscribe: () => ({ run: (c) => c.subscribe("chat:lobby").ready() }),
  "subscribe with recovery": () => ({ saved: [43, EPOCH], run: (c) => c.subscribe("chat:lobby").ready() }),
  "subscribe with data": () => ({ run: (c) => c.subscribe("game:table-7", { data: { seat: 3 } }).ready() }),
  rpc: () => ({ run: (c) => c.rpc("billing:charge", { amount: 5 }) }),
  "rpc without data": () => ({ run: (c) => c.rpc("billing:balance") }),
  "subscribe recovering from offset 0": () => ({ saved: [0, EPOCH], run: (c) => c.subscribe("chat:lobby").ready() }),
  unsubscribe: () => ({
    run: async (c) => {
      const s = c.subscribe("chat:lobby");
      await s.ready();
      s.unsubscribe();
      await c.presence("x");
    },
  }),
  publish: () => ({ run: (c) => c.publish("chat:lobby", { text: "hello" }, { idempotencyKey: "msg-8f2e1c" }) }),
  "publish without key": null,
  send: () => ({ run: (c) => c.send("orders", { sku: "A1", qty: 2 }, { idempotencyKey: "k1" }) }),
  presence: () => ({ run: (c) => c.presence("chat:lobby") }),
  "presence count only": () => ({ run: (c) => c.presence("chat:lobby", { limit: 1 }) }),
  "history latest": () => ({ run: (c) => c.history("chat:lobby", { limit: 10 }) }),
  "history since": () => ({ run: (c) => c.history("chat:lobby", { since: 44, limit: 10 }) }),
  "history from the start": () => ({ run: (c) => c.history("chat:lobby", { since: 0 }) }),
  ping: () => ({ opts: { pingInterval: 1 }, run: (c, srv) => waitFor(() => srv.ops("ping").length, "a ping", 3000) }),
  refresh: null, // its shape is checked below against a refresh the library sends
  "unknown field ignored": null,
};

test("every command the library sends decodes as the accepted command vectors do", async (t) => {
  for (const v of V.commands.filter((v) => !v.error)) {
    await t.test(v.name, async (t) => {
      assert.ok(v.name in drivers, `vector "${v.name}" has no driver: add one (or null, with the reason)`);
      const d = drivers[v.name]?.(v);
      if (!d) return;
      const want = withoutId(JSON.parse(v.line));
      const storage = memoryStorage();
      if (d.saved) storage.setItem("wsgateway:v", JSON.stringify({ "chat:lobby": d.saved }));
      const { srv, c } = await session(t, { storage, name: "v", ...d.opts });
      await c.connect();
      await d.run?.(c, srv);
      const sent = srv.ops(want.op).map(withoutId);
      assert.ok(sent.some((s) => JSON.stringify(s) == JSON.stringify(want)), `sent ${JSON.stringify(sent)}, want ${JSON.stringify(want)}`);
    });
  }
});

test("the refresh the library sends has the vector's shape", async (t) => {
  const v = V.commands.find((v) => v.name == "refresh");
  const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const exp = Math.floor(Date.now() / 1000) + 11;
  const tokens = [`${b({})}.${b({ sub: "alice", exp })}.x`, `${b({})}.${b({ sub: "alice", exp: exp + 3600 })}.y`];
  let n = 0;
  const { srv, c } = await session(t, { pingInterval: 1, getToken: () => tokens[n++] });
  await c.connect();
  const sent = withoutId(await waitFor(() => srv.ops("refresh")[0], "a refresh", 5000));
  const want = withoutId(JSON.parse(v.line));
  assert.deepEqual(Object.keys(sent), Object.keys(want));
  assert.equal(sent.token, tokens[1]);
});
