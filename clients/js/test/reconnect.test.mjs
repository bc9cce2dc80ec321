// States, the close-code policy (checked against close_policy.json for every
// code), reconnect and backoff.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Client, closePolicy, UnauthorizedError, WSGatewayError } from "../dist/index.js";
import { fakeServer, fast, record, waitFor } from "./helpers/fakeserver.mjs";
import { loadSrc } from "./helpers/src.mjs";

const policyFile = JSON.parse(readFileSync(new URL("../../../service/protocol/testdata/close_policy.json", import.meta.url)));

function fromFile(code) {
  const r = policyFile.rules.find((r) => code >= r.from && code <= r.to) || policyFile.default;
  return r.action == "stay_closed" ? { action: r.action } : { action: r.action, backoff: r.backoff };
}

test("the close policy agrees with close_policy.json for every code 1000..4999", () => {
  let checked = 0;
  for (let code = 1000; code <= 4999; code++, checked++) assert.deepEqual(closePolicy(code), fromFile(code), `close code ${code}`);
  assert.deepEqual(closePolicy(1006), { action: "reconnect", backoff: "full" });
  assert.equal(checked, 4000);
});

test("backoff: full jitter under a doubling ceiling, and the classes' minimum and window", async () => {
  const { delay, decide } = await loadSrc("policy.ts");
  const max = (code, n) => delay(decide(code), n, 500, 20000, () => 0.999999);
  const min = (code, n) => delay(decide(code), n, 500, 20000, () => 0);
  assert.equal(min(1006, 0), 0);
  assert.ok(Math.abs(max(1006, 0) - 500) < 0.01);
  assert.ok(Math.abs(max(1006, 3) - 4000) < 0.01);
  assert.ok(Math.abs(max(1006, 40) - 20000) < 0.1, "capped at maxDelay");
  for (const file of Object.keys(policyFile.backoff.classes)) {
    const code = { full: 1006, spread: 1012, slow: 4029 }[file];
    const cls = policyFile.backoff.classes[file];
    assert.equal(min(code, 0), cls.min_delay_ms, `${file} minimum`);
    assert.ok(Math.abs(max(code, 0) - cls.min_delay_ms - Math.max(cls.window_ms, 500)) < 0.01, `${file} window`);
  }
  for (const code of [1001, 1012, 1013])
    assert.ok(max(code, 0) >= 999, `after ${code} the first retry spreads over at least a second`);
});

test("state events: connecting, connected, then connecting with the close's code and reason, then connected", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, fast);
  t.after(async () => (c.disconnect(), await srv.close()));
  const states = record(c, "state");
  assert.equal(c.state, "disconnected");
  await c.connect();
  srv.last().close(1012, "draining");
  await waitFor(() => srv.ops("connect").length == 2 && c.state == "connected", "reconnected");
  assert.deepEqual(states, [
    { state: "connecting" },
    { state: "connected" },
    { state: "connecting", code: 1012, reason: "draining" },
    { state: "connected" },
  ]);
});

for (const code of [1001, 1002, 1011, 1012, 4008, 4100, 4499, 3000, 4077]) {
  test(`close ${code}: reconnects`, async (t) => {
    const srv = await fakeServer();
    const c = new Client(srv.url, { ...fast, random: () => 0 });
    t.after(async () => (c.disconnect(), await srv.close()));
    await c.connect();
    srv.last().close(code, "x");
    await waitFor(() => srv.ops("connect").length == 2, "a second connect");
    await waitFor(() => c.state == "connected", "connected");
  });
}

test("a dropped socket (1006, no close frame) reconnects", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, fast);
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  srv.last().drop();
  await waitFor(() => srv.ops("connect").length == 2 && c.state == "connected", "reconnected");
});

for (const code of [1000, 1003, 1007, 1008, 1009, 4003, 4009, 4500, 4999]) {
  test(`close ${code}: stays closed, connect() rejects`, async (t) => {
    const srv = await fakeServer();
    const c = new Client(srv.url, fast);
    t.after(async () => (c.disconnect(), await srv.close()));
    const states = record(c, "state");
    srv.handle = (cmd, conn) => (cmd.op == "connect" ? (setTimeout(() => conn.close(code, "bye"), 0), null) : undefined);
    const err = await c.connect().then(() => assert.fail("connected"), (e) => e);
    assert.ok(err instanceof WSGatewayError);
    assert.equal(err.code, "closed");
    assert.equal(err.closeCode, code);
    assert.equal(c.state, "closed");
    assert.deepEqual({ ...states.at(-1), error: undefined }, { state: "closed", code, reason: "bye", error: undefined });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(srv.conns.length, 1, "no reconnect");
  });
}

test("connect() after a terminal close starts again", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, fast);
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  srv.last().close(4003, "kicked");
  await waitFor(() => c.state == "closed", "closed");
  await c.connect();
  assert.equal(srv.conns.length, 2);
});

test("4001 without getToken is terminal: UnauthorizedError", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, token: "bad" });
  t.after(async () => (c.disconnect(), await srv.close()));
  srv.handle = (cmd, conn) =>
    cmd.op == "connect" ? (setTimeout(() => conn.close(4001, "invalid token"), 5), { error: { code: "unauthorized", message: "invalid or missing token" } }) : undefined;
  const err = await c.connect().catch((e) => e);
  assert.ok(err instanceof UnauthorizedError);
  assert.equal(c.state, "closed");
});

test("reconnects never give up: ten failed dials in a row, then a success", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, random: () => 0 });
  t.after(async () => (c.disconnect(), await srv.close()));
  // 1011 backs off with the plain sequence (1013's slow class would wait a second per retry)
  srv.handle = (cmd, conn) => (cmd.op == "connect" && srv.conns.length <= 10 ? (conn.close(1011, "err"), null) : undefined);
  await c.connect();
  assert.equal(srv.conns.length, 11);
});

test("a URL the WebSocket constructor refuses is terminal, not retried", async () => {
  const c = new Client("http://[bad", fast);
  const err = await c.connect().catch((e) => e);
  assert.equal(err.code, "closed");
  assert.match(err.message, /^dial http:\/\/\[bad: /);
  assert.equal(c.state, "closed");
});
