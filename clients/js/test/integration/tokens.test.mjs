// Tokens against a real node (--jwt-leeway 0s, so the node closes with 4001
// at exp exactly): a short token with getToken is refreshed in-band and the
// connection lives on past its exp; a token that could not be refreshed
// ends in 4001, then getToken and a reconnect that recovers; without
// getToken, 4001 closes the client for good.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bounded, channel, newClient, publishAPI, record, sleep, startEnv, token, waitFor } from "./env.mjs";

let env;
let url;

before(async () => {
  env = await startEnv("tokens");
  url = env.info.nodes[0].ws;
});
after(() => env?.close());

/** expOf reads a token's exp, in ms. */
const expOf = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url")).exp * 1000;

// Tokens of 4 s: the library's refresh is due at once (at the latest 10 s before exp), and the test
// outlives the first token by waiting past its exp, which is when the node would close with 4001.
const ttl = 4;

/**
 * outlivesItsToken connects c and checks that it is still the same connection after the exp of the
 * token it connected with (firstToken(), read once connected).
 */
async function outlivesItsToken(c, firstToken, getTokenCalls) {
  const states = record(c, "state");
  const connects = record(c, "connected");
  const errors = record(c, "error");
  await c.connect();
  const { client } = c.info;
  const first = firstToken();
  const before4001 = await env.metric(0, "wsgateway_disconnects_total", { code: "4001" });
  await waitFor("a refresh (a second getToken call)", () => getTokenCalls() >= 2);
  await sleep(expOf(first) + 1500 - Date.now());

  // a call answered after the first token's exp proves the node still takes this connection
  await c.publish(channel(), "after exp");
  assert.equal(c.state, "connected");
  assert.equal(c.info.client, client, "the same connection");
  assert.deepEqual(
    states.map((e) => e.state),
    ["connecting", "connected"],
  );
  assert.equal(connects.length, 1);
  assert.deepEqual(errors, []);
  assert.equal(await env.metric(0, "wsgateway_disconnects_total", { code: "4001" }), before4001, "no 4001 on the node");
}

test("a short token with getToken is refreshed in-band: same connection past its exp, no 4001", bounded, async (t) => {
  const issued = [];
  const getToken = async () => issued[issued.push(token("alice", { ttl })) - 1];
  const c = newClient(t, url, { getToken });
  // the first token is getToken's first answer, which connect() asked for
  await outlivesItsToken(c, () => issued[0], () => issued.length);
});

test("a short `token` option with getToken is refreshed in-band before its exp too", bounded, async (t) => {
  const first = token("alice", { ttl });
  let calls = 0;
  const c = newClient(t, url, { token: first, getToken: () => (calls++, token("alice", { ttl })) });
  await outlivesItsToken(c, () => first, () => calls + 1);
});

test("4001: a token that could not be refreshed expires, getToken is called, the client reconnects and recovers", bounded, async (t) => {
  // the token service is down while connected (the in-band refresh fails), and back once the node closed
  let down = false;
  let calls = 0;
  let callsAfter4001 = 0;
  let closed4001 = false;
  const getToken = async () => {
    calls++;
    if (closed4001) callsAfter4001++;
    if (down) throw new Error("token service unavailable");
    down = true;
    return token("alice", { ttl });
  };
  const c = newClient(t, url, { getToken });
  const states = record(c, "state");
  const errors = record(c, "error");
  c.on("state", (e) => {
    if (e.code == 4001) (closed4001 = true), (down = false);
  });
  const before4001 = await env.metric(0, "wsgateway_disconnects_total", { code: "4001" });
  await c.connect();
  const first = c.info.client;
  const ch = channel();
  const sub = c.subscribe(ch);
  const subStates = record(sub, "state");
  const pubs = record(sub, "publication");
  await sub.ready();
  await publishAPI(env.info.nodes[0].api, ch, 1);
  await waitFor("the first publication", () => pubs.length == 1);

  await waitFor("the 4001 close", () => closed4001, 15_000);
  await publishAPI(env.info.nodes[0].api, ch, 2); // while the client is away or back: recovered either way
  await waitFor("the reconnect", () => c.state == "connected", 15_000);
  await waitFor("the subscription back", () => subStates.length == 3);
  await waitFor("the second publication", () => pubs.length == 2);

  assert.notEqual(c.info.client, first, "a new connection");
  assert.ok(callsAfter4001 >= 1, "getToken called after the 4001");
  assert.deepEqual(
    states.map((e) => [e.state, e.code]),
    [
      ["connecting", undefined],
      ["connected", undefined],
      ["connecting", 4001],
      ["connected", undefined],
    ],
  );
  assert.ok(errors.length >= 1, "the failed refresh is reported as an error event");
  assert.deepEqual(subStates.at(-1), { state: "subscribed", recovered: true, wasRecovering: true });
  assert.deepEqual(
    pubs.map((p) => p.offset),
    [1, 2],
  );
  assert.equal(await env.metric(0, "wsgateway_disconnects_total", { code: "4001" }), before4001 + 1);
  assert.ok(calls >= 3);
});

test("4001 with no getToken: the token expires while connected and the client closes for good", bounded, async (t) => {
  const c = newClient(t, url, { token: token("alice", { ttl: 2 }) });
  const states = record(c, "state");
  await c.connect();
  await waitFor("the closed state", () => c.state == "closed", 15_000);
  assert.deepEqual(
    states.map((e) => [e.state, e.code]),
    [
      ["connecting", undefined],
      ["connected", undefined],
      ["closed", 4001],
    ],
  );
  assert.equal(states.at(-1).error?.name, "UnauthorizedError");
  await sleep(1500); // longer than the largest backoff (maxDelay 1 s): no reconnect
  assert.equal(c.state, "closed");
});
