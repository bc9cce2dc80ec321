// The page lifecycle in real Chromium against a real node:
//   sleep and wake: the node freezes (SIGSTOP: its socket stays open and
//   silent, no close frame, as after a laptop sleeps or a NAT forgets the
//   flow) and the page's clock jumps past twice the ping interval: the
//   library sees the dead socket on the wall clock and dials a new one;
//   reload: positions written to sessionStorage on pagehide let the
//   reloaded page recover what was published while it was away.
// Run alone (after npm run build): node --test test/browser/lifecycle.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPages, openPage, until, token } from "./pages.mjs";

let t;
const errors = [];

before(async () => {
  t = await startPages("lifecycle");
});

after(async () => {
  if (t) assert.equal(await t.close(), 0, "testenv exits 0");
});

const subscribed = (page) => page.evaluate(() => window.log.subs.filter((e) => e.state == "subscribed"));

test("sleep and wake: a silent dead socket is detected on the wall clock and replaced", { timeout: 120_000 }, async () => {
  const ctx = await t.browser.newContext();
  // the page's clock runs at real speed until the test moves it
  await ctx.clock.install();
  const page = await openPage(ctx, t.origin, { url: t.ws, token: token("cat"), channel: "chat:sleep" }, errors);
  await until("connected and subscribed", async () => (await subscribed(page)).length == 1);
  const before = await page.evaluate(() => window.client.info);
  assert.ok(before.ping_interval > 0);

  await t.env.command({ op: "signal", node: 0, signal: "STOP" });
  let resumed = false;
  try {
    // the machine "sleeps": the wall clock moves past twice the ping interval while nothing arrives
    await page.clock.fastForward((2 * before.ping_interval + 5) * 1000);
    await until("the dead socket is dropped", () =>
      page.evaluate(() => window.log.states.some((e) => e.state == "connecting" && /no traffic/.test(e.reason))),
    );
    await t.env.command({ op: "signal", node: 0, signal: "CONT" });
    resumed = true;
  } finally {
    if (!resumed) await t.env.command({ op: "signal", node: 0, signal: "CONT" });
  }

  await until("connected on a new connection", () => page.evaluate((old) => window.client.state == "connected" && window.client.info.client != old, before.client), 30_000);
  await until("subscribed again with recovery", async () => (await subscribed(page)).length == 2);
  const again = (await subscribed(page))[1];
  assert.equal(again.wasRecovering, true);
  assert.equal(again.recovered, true);
  const { offset } = await t.publish("chat:sleep", "after the wake");
  await until("the new connection delivers", async () => (await page.evaluate(() => window.log.pubs)).includes(offset));
  await ctx.close();
  assert.deepEqual(errors, [], "no page errors");
});

test("reload: the subscription recovers from the positions saved on pagehide", { timeout: 120_000 }, async () => {
  const ctx = await t.browser.newContext();
  const opts = { url: t.ws, token: token("dan"), channel: "chat:reload" };
  const page = await openPage(ctx, t.origin, opts, errors);
  await until("subscribed", async () => (await subscribed(page)).length == 1);
  for (let i = 1; i <= 3; i++) await t.publish("chat:reload", i);
  await until("three publications", async () => (await page.evaluate(() => window.log.pubs)).length == 3);
  const seen = await page.evaluate(() => window.log.pubs);

  await page.reload();
  const missed = [(await t.publish("chat:reload", 4)).offset, (await t.publish("chat:reload", 5)).offset];
  assert.ok(await page.evaluate(() => Object.keys(sessionStorage).length > 0), "positions are in sessionStorage");
  await page.evaluate((o) => window.start(o), opts);
  await until("subscribed after the reload", async () => (await subscribed(page)).length == 1);
  assert.deepEqual((await subscribed(page))[0], { state: "subscribed", recovered: true, wasRecovering: true });
  await until("the missed publications", async () => (await page.evaluate(() => window.log.pubs)).length == 2);
  assert.deepEqual(await page.evaluate(() => window.log.pubs), missed, `after ${seen}, exactly the ones published during the reload`);
  await ctx.close();
  assert.deepEqual(errors, [], "no page errors");
});
