// The page lifecycle, with a stand-in window and document (this file runs in
// its own process under node --test, so the globals stay here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fakeServer, fast, memoryStorage, waitFor } from "./helpers/fakeserver.mjs";

// Listeners are counted so that the test sees every one removed.
const live = new Set();
function target() {
  const t = new EventTarget();
  const add = t.addEventListener.bind(t);
  const remove = t.removeEventListener.bind(t);
  t.addEventListener = (ev, fn) => (live.add(`${ev}`), add(ev, fn));
  t.removeEventListener = (ev, fn) => (live.delete(`${ev}`), remove(ev, fn));
  return t;
}
globalThis.window = target();
globalThis.document = target();
document.visibilityState = "visible";
const fire = (t, type, props = {}) => t.dispatchEvent(Object.assign(new Event(type), props));

const { Client } = await import("../dist/index.js");

async function setup(t, opts = {}) {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, ...opts });
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  return { srv, c };
}

test("connect() adds the page listeners and disconnect() removes every one", async (t) => {
  const { c } = await setup(t);
  assert.deepEqual([...live].sort(), ["offline", "online", "pagehide", "pageshow", "visibilitychange"]);
  c.disconnect();
  assert.deepEqual([...live], []);
});

test("offline drops the socket; online reconnects at once", async (t) => {
  const { srv, c } = await setup(t, { minDelay: 60000, maxDelay: 60000 }); // only online can redial soon
  fire(window, "offline");
  assert.equal(c.state, "connecting");
  await waitFor(() => srv.conns[0].closed, "the socket closed");
  fire(window, "online");
  await waitFor(() => c.state == "connected" && srv.conns.length == 2, "reconnected");
});

test("pagehide into the bfcache closes the socket and saves positions; pageshow reconnects and recovers", async (t) => {
  const storage = memoryStorage();
  const { srv, c } = await setup(t, { storage, name: "p" });
  const sub = c.subscribe("chat:a");
  await sub.ready();
  srv.publish("chat:a", 1);
  await waitFor(() => srv.frames.length && c.state == "connected", "x");
  await c.presence("x"); // the publication has arrived before this reply
  fire(window, "pagehide", { persisted: true });
  assert.deepEqual(JSON.parse(storage.getItem("wsgateway:p")), { "chat:a": [1, "E1"] });
  await waitFor(() => srv.conns[0].closed, "the socket closed");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(srv.conns.length, 1, "no dial while in the bfcache");
  fire(window, "pageshow", { persisted: true });
  await waitFor(() => sub.state == "subscribed" && srv.conns.length == 2, "back");
  assert.equal(srv.ops("subscribe")[1].offset, 1);
});

test("dialWhenHidden:false waits for the page to be visible", async (t) => {
  const { srv, c } = await setup(t, { dialWhenHidden: false });
  document.visibilityState = "hidden";
  t.after(() => (document.visibilityState = "visible"));
  srv.last().close(1011, "x");
  await waitFor(() => c.state == "connecting", "dropped");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(srv.conns.length, 1, "no dial while hidden");
  document.visibilityState = "visible";
  fire(document, "visibilitychange");
  await waitFor(() => c.state == "connected" && srv.conns.length == 2, "reconnected when visible");
});

test("becoming visible checks the socket on the wall clock at once", async (t) => {
  let skew = 0;
  const { srv, c } = await setup(t, { now: () => Date.now() + skew });
  skew = 3600000; // woke from an hour of sleep; the 25 s ping interval has long passed
  fire(document, "visibilitychange");
  assert.equal(c.state, "connecting", "dropped on the event itself, not on a later tick");
  await waitFor(() => c.state == "connected" && srv.conns.length == 2, "replaced");
});

test("pagehide into the bfcache while a dial waits stops it until pageshow", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, { ...fast, minDelay: 50, maxDelay: 50, random: () => 0.99 });
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  srv.last().close(1011, "x");
  await waitFor(() => c.state == "connecting", "dropped");
  fire(window, "pagehide", { persisted: true }); // the retry timer (about 50 ms) is pending
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(srv.conns.length, 1, "no dial while in the bfcache");
  fire(window, "pageshow", { persisted: true });
  await waitFor(() => c.state == "connected" && srv.conns.length == 2, "back");
});

test("a close reason too long for a close frame still closes the socket", async (t) => {
  const srv = await fakeServer();
  const c = new Client(srv.url, fast);
  t.after(async () => (c.disconnect(), await srv.close()));
  await c.connect();
  srv.handle = (cmd) => (cmd.op == "connect" ? { error: { code: "internal", message: "x".repeat(300) } } : undefined);
  fire(window, "offline"); // drop, then the reconnect's connect fails with a 300-byte message
  await waitFor(() => srv.conns.length >= 2 && srv.conns[1].closed, "the second socket closed by the client");
});
