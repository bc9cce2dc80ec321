// Every call of the client against one real node (bin/wsgateway through
// testenv): connect, subscribe, publish and the publication push (from a
// client, with user, and from the API, without), presence, history (since,
// limit, truncated), unsubscribe, publish idempotency, and the contract's
// errors as typed errors.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { UnauthorizedError, WSGatewayError } from "../../dist/index.js";
import { bounded, channel, newClient, offsetsOf, publishAPI, range, record, startEnv, token, waitFor } from "./env.mjs";

let env;
let url;

before(async () => {
  // a small reply budget (the least the node accepts), so that history truncates with a few publications
  env = await startEnv("api", { args: ["--zone", "z1", "--max-reply-bytes", "4096"] });
  url = env.info.nodes[0].ws;
});
after(() => env?.close());

/** connected returns a connected client for user (default claims of token()). */
async function connected(t, user, claims) {
  const c = newClient(t, url, { token: token(user, claims) });
  await c.connect();
  return c;
}

test("connect resolves with the node's answer: client, user, node, zone, ping_interval", bounded, async (t) => {
  const c = newClient(t, url, { token: token("alice") });
  const states = record(c, "state");
  const infos = record(c, "connected");
  assert.equal(c.state, "disconnected");
  await c.connect();
  assert.equal(c.state, "connected");
  assert.match(c.info.client, /.+/);
  // the contract lets the node add fields: compare the ones it names
  const { user, node, zone, ping_interval } = c.info;
  assert.deepEqual({ user, node, zone, ping_interval }, { user: "alice", node: "n0", zone: "z1", ping_interval: 25 });
  assert.deepEqual(infos, [c.info]);
  assert.deepEqual(
    states.map((e) => e.state),
    ["connecting", "connected"],
  );
});

test("a publication reaches subscribers with the publisher's user; an API publication has no user", bounded, async (t) => {
  const ch = channel();
  const alice = await connected(t, "alice");
  const bob = await connected(t, "bob");
  const sub = alice.subscribe(ch);
  const subStates = record(sub, "state");
  const pubs = record(sub, "publication");
  await sub.ready();
  assert.equal(sub.state, "subscribed");
  assert.deepEqual(subStates, [{ state: "subscribed", recovered: false, wasRecovering: false }]);

  const first = await bob.publish(ch, { text: "hi" });
  assert.equal(first.offset, 1);
  assert.match(first.epoch, /.+/);
  const api = await publishAPI(env.info.nodes[0].api, ch, { text: "from the backend" });
  assert.deepEqual(api, { offset: 2, epoch: first.epoch });

  await waitFor("two publications", () => pubs.length >= 2);
  assert.deepEqual(pubs, [
    { channel: ch, offset: 1, epoch: first.epoch, data: { text: "hi" }, user: "bob" },
    { channel: ch, offset: 2, epoch: first.epoch, data: { text: "from the backend" } },
  ]);
  assert.equal("user" in pubs[1], false, "an API publication carries no user");
});

test("a subscription made before connect() is sent once connected", bounded, async (t) => {
  const ch = channel();
  const c = newClient(t, url, { token: token("alice") });
  const sub = c.subscribe(ch);
  const pubs = record(sub, "publication");
  assert.equal(sub.state, "subscribing");
  await c.connect();
  await sub.ready();
  await publishAPI(env.info.nodes[0].api, ch, "hello");
  await waitFor("the publication", () => pubs.length == 1);
  assert.equal(pubs[0].data, "hello");
});

test("two handles on one channel share one server subscription, which ends with the last handle", bounded, async (t) => {
  const ch = channel();
  const alice = await connected(t, "alice");
  const bob = await connected(t, "bob");
  const a1 = alice.subscribe(ch);
  const a2 = alice.subscribe(ch);
  const p1 = record(a1, "publication");
  const p2 = record(a2, "publication");
  await Promise.all([a1.ready(), a2.ready()]);
  assert.deepEqual(
    (await bob.presence(ch)).users.map((u) => u.client),
    [alice.info.client],
  );
  a1.unsubscribe();
  await bob.publish(ch, 1);
  await waitFor("the publication on the remaining handle", () => p2.length == 1);
  assert.equal(p1.length, 0);
  assert.equal(a2.state, "subscribed");
  assert.equal((await bob.presence(ch)).users.length, 1, "the server subscription stays");
  a2.unsubscribe();
  await waitFor("no presence left", async () => (await bob.presence(ch)).users.length == 0);
});

test("presence lists every subscribed connection with its user, client and node", bounded, async (t) => {
  const ch = channel();
  const alice = await connected(t, "alice");
  const bob = await connected(t, "bob");
  await Promise.all([alice.subscribe(ch).ready(), bob.subscribe(ch).ready()]);
  const p = await alice.presence(ch);
  const users = [...p.users].sort((a, b) => a.user.localeCompare(b.user));
  assert.deepEqual(users, [
    { user: "alice", client: alice.info.client, node: "n0" },
    { user: "bob", client: bob.info.client, node: "n0" },
  ]);
});

test("history pages with since and limit, and says truncated when the reply budget ends a page", bounded, async (t) => {
  const ch = channel();
  const c = await connected(t, "alice");
  let epoch;
  for (const n of range(1, 5)) epoch = (await c.publish(ch, { n })).epoch;

  const all = await c.history(ch);
  assert.equal(all.offset, 5);
  assert.equal(all.epoch, epoch);
  assert.deepEqual(offsetsOf(all.publications), [1, 2, 3, 4, 5]);
  assert.deepEqual(all.publications[0], { channel: ch, offset: 1, epoch, data: { n: 1 }, user: "alice" });
  assert.ok(!all.truncated);
  assert.deepEqual(offsetsOf((await c.history(ch, { since: 2, limit: 2 })).publications), [3, 4]);
  assert.deepEqual(offsetsOf((await c.history(ch, { limit: 2 })).publications), [4, 5]);
  assert.deepEqual(offsetsOf((await c.history(ch, { since: 5 })).publications), []);

  // four publications of 1,500 bytes do not fit the node's 4,096-byte reply budget
  const big = channel();
  for (const n of range(1, 4)) await c.publish(big, { n, pad: "x".repeat(1500) });
  const page = await c.history(big);
  assert.equal(page.truncated, true);
  assert.equal(page.offset, 4);
  assert.ok(page.publications.length >= 1 && page.publications.length < 4, `${page.publications.length} publications in a truncated page`);
  // paging on with since reaches the head, every offset once
  const seen = offsetsOf(page.publications);
  for (let i = 0; i < 10 && seen.at(-1) < 4; i++) seen.push(...offsetsOf((await c.history(big, { since: seen.at(-1) })).publications));
  assert.deepEqual(seen, [1, 2, 3, 4]);
});

test("unsubscribe ends the server subscription: presence drops the client and publications stop", bounded, async (t) => {
  const ch = channel();
  const alice = await connected(t, "alice");
  const bob = await connected(t, "bob");
  const sub = alice.subscribe(ch);
  const pubs = record(sub, "publication");
  const all = record(alice, "publication");
  await sub.ready();
  await bob.publish(ch, "before");
  await waitFor("the first publication", () => pubs.length == 1);

  const states = record(sub, "state");
  sub.unsubscribe();
  assert.equal(sub.state, "unsubscribed");
  assert.deepEqual(states, [{ state: "unsubscribed" }]);
  await waitFor("presence without alice", async () => (await bob.presence(ch)).users.every((u) => u.user != "alice"));
  await bob.publish(ch, "after");
  // a round trip on alice's connection: a push queued before its reply would have arrived first
  await alice.presence(ch);
  assert.equal(pubs.length, 1);
  assert.equal(all.length, 1);
});

test("publish with one idempotency key publishes once: the same offset, one publication in history", bounded, async (t) => {
  const ch = channel();
  const c = await connected(t, "alice");
  await c.publish(ch, "other");
  const a = await c.publish(ch, "once", { idempotencyKey: "key-1" });
  const b = await c.publish(ch, "once", { idempotencyKey: "key-1" });
  assert.deepEqual(b, a);
  assert.equal(a.offset, 2);
  // without a key each call is its own publication (the library's own keys differ)
  const c1 = await c.publish(ch, "twice");
  const c2 = await c.publish(ch, "twice");
  assert.deepEqual([c1.offset, c2.offset], [3, 4]);
  assert.deepEqual(offsetsOf((await c.history(ch)).publications), [1, 2, 3, 4]);
});

test("errors reject as WSGatewayError with the contract's code", bounded, async (t) => {
  const c = await connected(t, "alice");

  // subscribe: the token allows chat:* and news:*, not secret:*
  const denied = c.subscribe("secret:plans");
  const states = record(denied, "state");
  await assert.rejects(denied.ready(), (e) => e instanceof WSGatewayError && e.code == "permission_denied");
  assert.equal(denied.state, "unsubscribed");
  assert.equal(states.at(-1).error.code, "permission_denied");
  // another user's personal channel, whatever the patterns say
  await assert.rejects(c.subscribe("user:bob").ready(), { code: "permission_denied" });
  await c.subscribe("user:alice").ready();

  // publish: news:* is subscribe-only
  await assert.rejects(c.publish("news:x", 1), (e) => e instanceof WSGatewayError && e.code == "permission_denied");
  // presence and history need subscribe permission
  await assert.rejects(c.presence("secret:plans"), { code: "permission_denied" });
  await assert.rejects(c.history("secret:plans"), { code: "permission_denied" });

  // a channel name outside [A-Za-z0-9_:.\-@=/], or empty: a malformed field, of which three frames in a
  // row close the connection (1008), so a good call comes between them
  await assert.rejects(c.subscribe("chat:no spaces!").ready(), (e) => e instanceof WSGatewayError && e.code == "bad_request");
  await assert.rejects(c.publish("chat:no spaces!", 1), { code: "bad_request" });
  await c.publish(channel(), "fine");
  await assert.rejects(c.history("", {}), { code: "bad_request" });

  // none of this closed the connection
  assert.equal(c.state, "connected");
  await c.publish(channel(), "still fine");
});

test("a token the node refuses, with no getToken, rejects connect with UnauthorizedError and closes", bounded, async (t) => {
  const forged = token("mallory").replace(/\.[^.]+$/, ".AAAA");
  const c = newClient(t, url, { token: forged });
  const states = record(c, "state");
  await assert.rejects(c.connect(), (e) => e instanceof UnauthorizedError && e.code == "unauthorized");
  assert.equal(c.state, "closed");
  assert.equal(states.at(-1).state, "closed");
  assert.equal(states.at(-1).code, 4001);
});
