// The tabs option in real Chromium against a real node: pages of one
// browser context are tabs of one browser profile and origin (they share
// Web Locks and BroadcastChannel).
//   shared: three tabs hold one connection between them, all receive every
//   publication, and when the leader tab closes another takes over without
//   losing an offset;
//   independent: five tabs cut off at the same instant do not dial back at
//   the same instant.
// Run alone (after npm run build): node --test test/browser/tabs.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPages, openPage, until, token } from "./pages.mjs";

let t;
const errors = [];

before(async () => {
  // a short ping interval, so that a tab sees a hung leader within seconds
  t = await startPages("tabs", ["--ping-interval", "2s"]);
});

after(async () => {
  if (t) assert.equal(await t.close(), 0, "testenv exits 0");
});

/** offsets returns the offsets page received, in order. */
const offsets = (page) => page.evaluate(() => window.log.pubs);

/** contiguous reports whether xs are from..to, each once, in order. */
const contiguous = (xs, from, to) => xs.length == to - from + 1 && xs.every((x, i) => x == from + i);

test("shared: three tabs, one connection, every publication in each; the leader closes and another takes over losing nothing", { timeout: 120_000 }, async () => {
  const ctx = await t.browser.newContext();
  const channel = "chat:shared";
  const opts = { url: t.ws, token: token("ann"), tabs: "shared", channel };
  const pages = [];
  for (let i = 0; i < 3; i++) pages.push(await openPage(ctx, t.origin, opts, errors));
  for (const p of pages) await until("each tab subscribed", () => p.evaluate(() => window.log.subs.some((e) => e.state == "subscribed")));
  await until("one connection on the node", async () => (await t.connections()) == 1);
  const sockets = await Promise.all(pages.map((p) => p.evaluate(() => window.openSockets())));
  assert.deepEqual(sockets.slice().sort(), [0, 0, 1], "one tab (the leader) holds the only WebSocket");

  let last = 0;
  const publish = async (n) => {
    for (let i = 0; i < n; i++) last = (await t.publish(channel, { n: i })).offset;
  };
  await publish(5);
  const first = last - 4;
  for (const p of pages) await until("every tab has the first five", async () => (await offsets(p)).length == 5);
  for (const p of pages) assert.ok(contiguous(await offsets(p), first, last), `${await offsets(p)}`);

  const leader = pages[sockets.indexOf(1)];
  const rest = pages.filter((p) => p != leader);

  // a follower's calls go through the leader's connection, with their results
  const own = await rest[0].evaluate(() => window.client.publish("chat:shared", "from a follower"));
  last = own.offset;
  for (const p of pages) await until("every tab has the follower's publication", async () => (await offsets(p)).at(-1) == last);
  const presence = await rest[1].evaluate(() => window.client.presence("chat:shared"));
  assert.equal(presence.count, 1, "the node sees one subscriber: the shared connection");
  const info = await Promise.all(pages.map((p) => p.evaluate(() => window.client.info.client)));
  assert.equal(new Set(info).size, 1, "every tab reports the shared connection's client id");

  // the leader closes while publications keep coming
  const publishing = (async () => {
    for (let i = 0; i < 20; i++) {
      await publish(1);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  await leader.close();
  await publishing;
  for (const p of rest)
    await until(`tab has every offset up to ${last}`, async () => (await offsets(p)).at(-1) == last, 30_000);
  for (const p of rest) {
    const got = await offsets(p);
    assert.ok(contiguous(got, first, last), `every offset once, in order, across the hand-off: ${got}`);
  }
  await until("one connection again, from the new leader", async () => (await t.connections()) == 1);
  const now = await Promise.all(rest.map((p) => p.evaluate(() => window.openSockets())));
  assert.deepEqual(now.slice().sort(), [0, 1], "one of the remaining tabs holds the WebSocket");
  for (const p of rest) assert.equal(await p.evaluate(() => window.client.state), "connected");
  await ctx.close();
  assert.deepEqual(errors, [], "no page errors");
});

test("independent: five tabs cut off at once dial back one at a time, not all at one instant", { timeout: 120_000 }, async () => {
  const ctx = await t.browser.newContext();
  // zeroJitter: the library's own backoff waits 0 ms, so only the tabs' dial lock can spread the dials
  const opts = { url: t.ws, token: token("bob"), channel: "chat:independent", zeroJitter: true, minDelay: 10 };
  const pages = [];
  for (let i = 0; i < 5; i++) pages.push(await openPage(ctx, t.origin, opts, errors));
  for (const p of pages) await until("each tab connected", () => p.evaluate(() => window.client.state == "connected"));
  const firstDials = await Promise.all(pages.map((p) => p.evaluate(() => window.dials.length)));
  assert.deepEqual(firstDials, [1, 1, 1, 1, 1]);

  // kill the node and start it again on the same port: every socket ends at the same instant (1006)
  const cut = Date.now();
  await t.env.command({ op: "restart", node: 0 });
  for (const p of pages)
    await until("each tab connected again", () => p.evaluate(() => window.client.state == "connected" && window.dials.length > 1), 30_000);

  const dials = (await Promise.all(pages.map((p) => p.evaluate(() => window.dials.slice(1))))).flat().sort((a, b) => a - b);
  assert.ok(dials.length >= 5 && dials[0] >= cut - 1000, `dials after the cut: ${dials}`);
  // by count, not by exact timing: a dial holds the lock for 200 ms, so two dials
  // within 50 ms of each other mean two tabs dialed without it
  const close = dials.filter((d, i) => i > 0 && d - dials[i - 1] < 50).length;
  console.log(`# ${dials.length} dials after the cut, ${close} within 50 ms of the one before; gaps: ${dials.slice(1).map((d, i) => d - dials[i])}`);
  assert.equal(close, 0, "no two dials at one instant");
  await until("five connections", async () => (await t.connections()) == 5);
  await ctx.close();
  assert.deepEqual(errors, [], "no page errors");
});

test("independent: a fresh token from one tab is used by the others of the same user, not by another user's", { timeout: 120_000 }, async () => {
  const ctx = await t.browser.newContext();
  const channel = "chat:tokens";
  // ann's first tab holds a token that needs refreshing in about 5 s; her getToken gives a long one
  const fresh = token("ann", { ttl: 900 });
  const a = await openPage(ctx, t.origin, { url: t.ws, token: token("ann", { ttl: 15 }), tokens: [fresh], channel }, errors);
  const b = await openPage(ctx, t.origin, { url: t.ws, token: token("ann"), tokens: [token("ann", { ttl: 900 })], channel }, errors);
  const c = await openPage(ctx, t.origin, { url: t.ws, token: token("zoe"), tokens: [token("zoe", { ttl: 900 })], channel }, errors);
  for (const p of [a, b, c]) await until("connected", () => p.evaluate(() => window.client.state == "connected"));

  const refreshes = (p) => p.evaluate(() => window.sent.filter((m) => m.op == "refresh").map((m) => m.token));
  await until("ann's first tab refreshes in-band", async () => (await refreshes(a)).length == 1, 30_000);
  assert.deepEqual(await refreshes(a), [fresh]);
  await until("her other tab refreshes with the token it was offered", async () => (await refreshes(b)).includes(fresh));
  assert.equal(await b.evaluate(() => window.log.gets), 0, "without calling its own getToken");
  assert.deepEqual(await refreshes(c), [], "zoe's tab does not take ann's token");
  for (const p of [a, b, c]) assert.equal(await p.evaluate(() => window.client.state), "connected");
  await ctx.close();
  assert.deepEqual(errors, [], "no page errors");
});

test("shared: a leader that hangs is replaced (the lock is stolen, the higher term wins), and follows when it runs again, losing nothing", { timeout: 120_000 }, async () => {
  const ctx = await t.browser.newContext();
  const channel = "chat:hung";
  const opts = { url: t.ws, token: token("eve"), tabs: "shared", channel };
  const pages = [await openPage(ctx, t.origin, opts, errors), await openPage(ctx, t.origin, opts, errors)];
  for (const p of pages) await until("each tab subscribed", () => p.evaluate(() => window.log.subs.some((e) => e.state == "subscribed")));
  const held = await Promise.all(pages.map((p) => p.evaluate(() => window.openSockets())));
  const leader = pages[held.indexOf(1)];
  const other = pages[held.indexOf(0)];
  const first = (await t.publish(channel, "before")).offset;
  for (const p of pages) await until("both have the first", async () => (await offsets(p)).includes(first));

  // the leader's main thread hangs for 12 s (no pagehide, no freeze event: it still holds the lock);
  // the other tab's ping liveness (ping interval 2 s here) drops the link, its hello goes unanswered
  const hang = leader.evaluate(() => {
    const end = Date.now() + 12_000;
    while (Date.now() < end);
  });
  let last = first;
  for (let i = 0; i < 5; i++) last = (await t.publish(channel, i)).offset;
  await until("the other tab leads and has every offset", async () => (await offsets(other)).at(-1) == last, 30_000);
  assert.equal(await other.evaluate(() => window.openSockets()), 1, "the other tab holds a socket now");

  await hang;
  last = (await t.publish(channel, "after")).offset;
  for (const p of pages) await until("both have every offset", async () => (await offsets(p)).at(-1) == last, 30_000);
  for (const p of pages) assert.ok(contiguous(await offsets(p), first, last), `${await offsets(p)}`);
  await until("the old leader follows: it holds no socket", async () => (await leader.evaluate(() => window.openSockets())) == 0);
  await until("one connection on the node", async () => (await t.connections()) == 1);
  await ctx.close();
  assert.deepEqual(errors, [], "no page errors");
});
