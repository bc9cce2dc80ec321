// The demo chat (service/internal/demo, served at GET / in --dev) in real
// Chromium: two browsers (separate contexts: separate storage, as two
// people) chat through one node; a third that joins later sees the room's
// history; presence lists them. A screenshot of the conversation is kept in
// test-results/demo-chat.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "./chromium.mjs";
import { startTestenv, resultsDir } from "./testenv.mjs";

const waitMs = 15_000;
let env;
let browser;
const pageErrors = [];

before(async () => {
  env = await startTestenv({ name: "demo", gatewayArgs: ["--dev"] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (env) assert.equal(await env.close(), 0, "testenv exits 0 once stdin ends");
});

/** openChat opens the demo in a new browser context and waits until it shows "connected". */
async function openChat(who) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(`${who}: ${err.message}`));
  page.on("console", (msg) => msg.type() === "error" && pageErrors.push(`${who} console: ${msg.text()}`));
  const resp = await page.goto(env.info.nodes[0].http + "/");
  assert.equal(resp.status(), 200);
  await page.fill("#name", who);
  await page.dispatchEvent("#name", "change");
  await page.waitForFunction(() => document.getElementById("state").textContent === "connected", null, { timeout: waitMs });
  return page;
}

async function say(page, text) {
  await page.fill("#message", text);
  await page.click("#send");
}

/** waitForMessage waits until page shows a message whose text is text, and returns its sender's name. */
async function waitForMessage(page, text) {
  const li = await page.waitForFunction(
    (t) => [...document.querySelectorAll("#messages li")].find((li) => li.querySelector(".text")?.textContent === t),
    text,
    { timeout: waitMs },
  );
  return li.evaluate((el) => el.querySelector(".who").textContent);
}

test("two browsers chat through the demo page", { timeout: 120_000 }, async () => {
  const alice = await openChat("alice");
  const bob = await openChat("bob");
  assert.equal(await alice.textContent("#room"), "", "the room input holds its value, not text");
  assert.equal(await alice.inputValue("#room"), "chat:lobby");

  await say(alice, "hello from alice");
  assert.equal(await waitForMessage(bob, "hello from alice"), "alice");
  await say(bob, "hi alice, bob here");
  assert.equal(await waitForMessage(alice, "hi alice, bob here"), "bob");
  await waitForMessage(alice, "hello from alice"); // her own message, echoed by the node

  // Presence lists both connections of the room.
  await alice.waitForFunction(() => Number(document.getElementById("count").textContent) >= 2, null, { timeout: waitMs });

  // A latecomer gets the room's history on join, in order.
  const carol = await openChat("carol");
  assert.equal(await waitForMessage(carol, "hi alice, bob here"), "bob");
  const texts = await carol.$$eval("#messages li .text", (els) => els.map((e) => e.textContent));
  assert.deepEqual(texts, ["hello from alice", "hi alice, bob here"]);

  mkdirSync(resultsDir, { recursive: true });
  await alice.screenshot({ path: join(resultsDir, "demo-chat.png"), fullPage: true });
  assert.deepEqual(pageErrors, [], "no page errors");
});
