// The shared mode's Hub (src/tabs/hub.ts) against the in-process fake
// server: tabs are ports that speak the protocol, as the Clients of the tabs
// do through BroadcastChannel. The election and the links between real tabs
// are tested in Chromium (test/browser/tabs.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fakeServer, waitFor, WebSocket } from "./helpers/fakeserver.mjs";
import { loadSrc } from "./helpers/src.mjs";

const { Hub } = await loadSrc("tabs/hub.ts");
const { webSocketDial } = await loadSrc("transport.ts");

/** port is a tab as the hub sees it: it keeps every line it was sent, and its close. */
function port() {
  return {
    got: [],
    closed: undefined,
    send(f) {
      for (const l of f.split("\n")) this.got.push(JSON.parse(l));
    },
    close(code, reason) {
      this.closed = { code, reason };
    },
    reply(id) {
      return this.got.find((m) => m.id == id && !m.push);
    },
    pubs() {
      return this.got.filter((m) => m.push == "pub").map((m) => m.offset);
    },
  };
}

async function hubWithTabs(t, n) {
  const srv = await fakeServer();
  const hub = new Hub(srv.url, webSocketDial(WebSocket));
  const tabs = Array.from({ length: n }, port);
  t.after(async () => (hub.stop(1001, "test over"), await srv.close()));
  tabs.forEach((p, i) => {
    hub.attach(p);
    hub.frame(p, JSON.stringify({ id: 1, op: "connect", token: `t${i}` }));
  });
  for (const p of tabs) await waitFor(() => p.reply(1), "the connect reply");
  return { srv, hub, tabs };
}

const cmd = (hub, p, c) => hub.frame(p, JSON.stringify(c));

test("hub: tabs share one connection and one server subscription per channel, counted", async (t) => {
  const { srv, hub, tabs } = await hubWithTabs(t, 2);
  const [a, b] = tabs;
  assert.equal(srv.conns.length, 1);
  assert.deepEqual(srv.ops("connect").map((c) => c.token), ["t0"], "the first tab's connect opens the socket");
  assert.deepEqual(a.reply(1).result, b.reply(1).result, "both get the one connect result");

  cmd(hub, a, { id: 2, op: "subscribe", channel: "chat:a" });
  cmd(hub, b, { id: 5, op: "subscribe", channel: "chat:a" });
  await waitFor(() => a.reply(2) && b.reply(5), "both subscribed");
  assert.equal(srv.ops("subscribe").length, 1);
  srv.publish("chat:a", "x");
  await waitFor(() => a.pubs().length && b.pubs().length, "the publication in both tabs");

  cmd(hub, b, { id: 6, op: "presence", channel: "chat:a" });
  await waitFor(() => b.reply(6), "presence");
  assert.equal(b.reply(6).result.count, 1, "a call is relayed and answered under the tab's own id");

  cmd(hub, b, { id: 7, op: "unsubscribe", channel: "chat:a" });
  await waitFor(() => b.reply(7), "b unsubscribed");
  assert.equal(srv.ops("unsubscribe").length, 0, "a still uses the channel");
  srv.publish("chat:a", "y");
  await waitFor(() => a.pubs().length == 2, "a gets the next one");
  assert.deepEqual(b.pubs(), [1], "b does not");
  hub.detach(a);
  await waitFor(() => srv.ops("unsubscribe").length == 1, "the last member's leaving unsubscribes the channel");
  assert.equal(srv.conns[0].closed, false, "b still uses the socket");
  hub.detach(b);
  await waitFor(() => srv.conns[0].closed, "the socket closes when no tab is left");
});

test("hub: a tab behind gets what it missed from history, and what arrives meanwhile after its reply", async (t) => {
  const { srv, hub, tabs } = await hubWithTabs(t, 2);
  const [a, b] = tabs;
  cmd(hub, a, { id: 2, op: "subscribe", channel: "chat:a" });
  await waitFor(() => a.reply(2), "a subscribed");
  for (let i = 1; i <= 3; i++) srv.publish("chat:a", i);
  await waitFor(() => a.pubs().length == 3, "a has 1..3");

  // publication 4 reaches the hub before the history reply: it must reach b after its reply
  srv.handle = (c) => {
    if (c.op != "history") return undefined;
    const ch = srv.channel(c.channel);
    const result = { offset: ch.pubs.length, epoch: ch.epoch, publications: ch.pubs.slice(c.since) };
    srv.publish("chat:a", 4);
    return { result };
  };
  cmd(hub, b, { id: 2, op: "subscribe", channel: "chat:a", recover: true, offset: 1, epoch: "E1" });
  await waitFor(() => b.reply(2) && b.pubs().length, "b's reply and the live one");
  const r = b.reply(2).result;
  assert.equal(r.recovered, true);
  assert.deepEqual(r.publications.map((p) => p.offset), [2, 3]);
  assert.ok(b.got.indexOf(b.reply(2)) < b.got.findIndex((m) => m.push), "the held-back publication follows the reply");
  assert.deepEqual(b.pubs(), [4]);
  assert.equal(srv.ops("subscribe").length, 1, "no second server subscription");
});

test("hub: the socket's close reaches every tab with its code", async (t) => {
  const { srv, tabs } = await hubWithTabs(t, 2);
  srv.last().close(4003, "bye");
  for (const p of tabs) await waitFor(() => p.closed, "the tab's link closed");
  for (const p of tabs) assert.deepEqual(p.closed, { code: 4003, reason: "bye" });
});

test("hub: other pushes of a channel go to its members and keep the subscription; a push without a channel goes to every tab", async (t) => {
  const { srv, hub, tabs } = await hubWithTabs(t, 2);
  const [a, b] = tabs;
  cmd(hub, a, { id: 2, op: "subscribe", channel: "chat:a" });
  await waitFor(() => a.reply(2), "a subscribed");
  srv.last().send({ push: "join", channel: "chat:a", user: "bob" }, { push: "note", data: 1 });
  await waitFor(() => a.got.some((m) => m.push == "note") && b.got.some((m) => m.push == "note"), "the connection's push in both tabs");
  assert.ok(a.got.some((m) => m.push == "join"), "a member hears its channel's push");
  assert.ok(!b.got.some((m) => m.push == "join"), "a tab that did not subscribe does not");
  srv.publish("chat:a", "still subscribed");
  await waitFor(() => a.pubs().length == 1, "publications after it");
  assert.equal(srv.ops("subscribe").length, 1);
});
