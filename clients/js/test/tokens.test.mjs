// Tokens (refresh before exp, getToken after 4001, single flight, no stale
// token sent) and liveness (pings, a dead socket noticed on the wall clock).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, UnauthorizedError } from "../dist/index.js";
import { fakeServer, fast, jwt, waitFor } from "./helpers/fakeserver.mjs";

const sec = () => Math.floor(Date.now() / 1000);

test("with getToken, the token is refreshed in-band before exp, without reconnecting", async (t) => {
  const srv = await fakeServer({ pingInterval: 1 }); // a tick every 250 ms
  const exp = sec() + 12;
  const tokens = [jwt({ sub: "alice", exp }), jwt({ sub: "alice", exp: sec() + 3600 })];
  let calls = 0;
  const c = new Client(srv.url, { ...fast, getToken: async () => tokens[calls++] });
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  assert.equal(srv.ops("connect")[0].token, tokens[0]);
  // refreshed at exp - 10 s at the latest: about 2 s from now
  const r = await waitFor(() => srv.ops("refresh")[0], "a refresh command", 6000);
  assert.equal(r.token, tokens[1]);
  assert.ok(Date.now() < exp * 1000, "refreshed before the first token expired");
  assert.equal(r.conn, 0);
  assert.equal(calls, 2);
  assert.equal(srv.conns.length, 1, "no reconnect");
});

test("after 4001 getToken is called again and the client reconnects with the new token", async (t) => {
  const srv = await fakeServer();
  let n = 0;
  const c = new Client(srv.url, { ...fast, getToken: () => `tok${++n}` });
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  srv.last().close(4001, "token expired");
  await waitFor(() => srv.ops("connect").length == 2, "reconnected");
  assert.deepEqual(srv.ops("connect").map((x) => x.token), ["tok1", "tok2"]);
});

test("concurrent needs for a token share one getToken call", async (t) => {
  const srv = await fakeServer({ pingInterval: 1 });
  let calls = 0;
  let release;
  const gate = new Promise((r) => (release = r));
  const first = jwt({ sub: "alice", exp: sec() + 11 }); // refresh due in about a second
  const second = jwt({ sub: "alice", exp: sec() + 3600 });
  const c = new Client(srv.url, { ...fast, getToken: () => (++calls == 1 ? first : gate) });
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  await waitFor(() => calls == 2, "the refresh's getToken", 5000);
  srv.last().close(4001, "expired"); // the reconnect needs a token too, while the refresh waits for one
  await waitFor(() => c.state == "connecting", "dropped");
  await new Promise((r) => setTimeout(r, 100)); // the redial (5 ms backoff) is waiting on the shared call
  release(second);
  await waitFor(() => c.state == "connected" && srv.conns.length == 2, "reconnected");
  assert.equal(calls, 2, "one getToken call served both");
  assert.equal(srv.ops("connect")[1].token, second);
});

test("an expired token is never sent: getToken is asked instead", async (t) => {
  const srv = await fakeServer();
  const stale = jwt({ sub: "alice", exp: sec() - 5 });
  const c = new Client(srv.url, { ...fast, token: stale, getToken: () => "fresh" });
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  assert.equal(srv.ops("connect")[0].token, "fresh");
});

test("an expired token without getToken: closed with UnauthorizedError, nothing dialled", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, token: jwt({ sub: "alice", exp: sec() - 5 }) });
  t.after(async () => (c.disconnect(), await srv.close()));
  await assert.rejects(c.connect(), UnauthorizedError);
  assert.equal(c.state, "closed");
  assert.equal(srv.conns.length, 0);
});

test("getToken failing is retried with backoff and reported as an error event", async (t) => {
  const srv = await fakeServer();
  let n = 0;
  const c = new Client(srv.url, { ...fast, getToken: async () => (++n < 3 ? Promise.reject(new Error("auth down")) : "ok") });
  const errors = [];
  c.on("error", (e) => errors.push(e.message));
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  assert.deepEqual(errors, ["auth down", "auth down"]);
  assert.equal(srv.ops("connect")[0].token, "ok");
});

test("liveness: pings are sent while idle", async (t) => {
  const srv = await fakeServer({ pingInterval: 1 });
  const c = new Client(srv.url, fast);
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  const p = await waitFor(() => srv.ops("ping")[0], "a ping command", 3000);
  assert.deepEqual(Object.keys(p).sort(), ["conn", "id", "op"]);
  assert.equal(srv.conns.length, 1);
});

test("liveness: a wall-clock jump past twice the ping interval (sleep, throttled tab) replaces the socket", async (t) => {
  const srv = await fakeServer({ pingInterval: 1 });
  let skew = 0;
  const c = new Client(srv.url, { ...fast, now: () => Date.now() + skew });
  const states = [];
  c.on("state", (e) => states.push(e));
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  skew = 60000; // the machine slept a minute: the old socket is silently dead
  await waitFor(() => srv.conns.length == 2 && c.state == "connected", "a new connection", 3000);
  assert.deepEqual(states[2], { state: "connecting", code: 1006, reason: "no traffic for twice the ping interval" });
});

test("liveness: a server that stops answering is noticed", async (t) => {
  const srv = await fakeServer({ pingInterval: 1 });
  const c = new Client(srv.url, fast);
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  srv.handle = (cmd, conn) => (conn.index == 0 ? null : undefined); // a black hole
  await waitFor(() => srv.conns.length == 2 && c.state == "connected", "a new connection", 6000);
});
