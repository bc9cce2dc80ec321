// Backend hooks against the reference backend (examples/backend), which
// testenv -hooks-example serves and points the node at with the example's
// hooks.yaml: connect by session cookie (mode hook: no token), subscribe with
// data and the hook's data in the subscribed event, rpc, a backend's own
// app_ error code, a moderated publish, and session:logout's 4500 close.
//
// The Client has no header option: a browser sends the page's cookies with
// the upgrade by itself. In Node the `ws` package takes headers as its third
// constructor argument, so a subclass of it passed as the WebSocket option
// sends the Cookie, with no change to the library (cookieWebSocket below).
// The backend's sessions: s1 alice, s2 bob, s3 carol, s4 dave
// (service/cmd/testenv/hooks.go); "spam" is banned, "darn" is starred out.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WS from "ws";
import { WSGatewayError } from "../../dist/index.js";
import { startTestenv } from "../browser/testenv.mjs";
import { apiKey, bounded, channel, newClient, record, secret, waitFor } from "./env.mjs";

let env;
let url;

before(async () => {
  env = await startTestenv({
    name: "integration/hooks",
    hooksExample: true,
    // Auth is configured and --dev is off, so the permissions that the
    // connect hook grants (chat:* both ways) are the ones enforced.
    gatewayArgs: ["--jwt-secret", secret, "--api-key", apiKey, "--drain-delay", "0s", "--drain-window", "0s"],
  });
  url = env.info.nodes[0].ws;
  assert.match(env.info.backend, /^http:\/\/127\.0\.0\.1:\d+$/);
});
after(async () => {
  await env?.close();
});

/** cookieWebSocket is `ws` sending the session cookie with every upgrade, as a browser would. */
function cookieWebSocket(session) {
  return class CookieWebSocket extends WS {
    constructor(url, protocols) {
      super(url, protocols, { headers: { Cookie: `session=${session}` } });
    }
  };
}

/** signedIn connects a client as the session's user, by cookie only. */
async function signedIn(t, session) {
  const c = newClient(t, url, { WebSocket: cookieWebSocket(session) });
  await c.connect();
  return c;
}

test("the session cookie signs the client in: the hook names the user and its data is in info", bounded, async (t) => {
  const c = await signedIn(t, "s1");
  assert.equal(c.info.user, "alice");
  assert.deepEqual(c.info.data, { name: "alice" });
});

test("without a session the connect hook refuses, and the client closes for good", bounded, async (t) => {
  const c = newClient(t, url);
  const states = record(c, "state");
  await assert.rejects(c.connect(), (e) => e instanceof WSGatewayError && e.code == "unauthorized");
  await waitFor("closed", () => c.state == "closed");
  assert.ok(!states.some((s) => s.state == "connected"), JSON.stringify(states));
});

test("subscribe with data: the subscribed event carries the hook's data, and it counts the room's messages", bounded, async (t) => {
  const c = await signedIn(t, "s1");
  const room = channel("chat");
  const sub = c.subscribe(room, { data: { want: "history" } });
  const states = record(sub, "state");
  await sub.ready();
  assert.deepEqual(states.find((s) => s.state == "subscribed")?.data, { room, messages: 0 });

  await c.publish(room, { text: "hello" });
  // A second handle shares the server subscription; a second client subscribes anew and sees the count.
  const other = await signedIn(t, "s2");
  const again = other.subscribe(room, { data: 1 });
  const seen = record(again, "state");
  await again.ready();
  assert.deepEqual(seen.find((s) => s.state == "subscribed")?.data, { room, messages: 1 });
});

test("rpc resolves to the backend's data; an unknown method is the backend's not_found", bounded, async (t) => {
  const c = await signedIn(t, "s1");
  assert.deepEqual(await c.rpc("echo:upper", { text: "hi there", keep: 7 }), { text: "HI THERE", keep: 7 });
  assert.equal(await c.rpc("echo:upper", "plain"), "PLAIN");
  await assert.rejects(c.rpc("echo:nope", 1), (e) => e instanceof WSGatewayError && e.code == "not_found");
  assert.equal(c.state, "connected");
});

test("a moderated publish: a masked word is rewritten for subscribers, a banned one is refused with app_banned_word", bounded, async (t) => {
  const room = channel("chat");
  const reader = await signedIn(t, "s2");
  const sub = reader.subscribe(room);
  const pubs = record(sub, "publication");
  await sub.ready();

  const writer = await signedIn(t, "s1");
  await writer.publish(room, { text: "oh darn it", mood: "sad" });
  await assert.rejects(
    writer.publish(room, { text: "buy SPAM now" }),
    (e) => e instanceof WSGatewayError && e.code == "app_banned_word" && /spam/.test(e.message),
  );
  await writer.publish(room, "fine");
  await waitFor("two publications", () => pubs.length >= 2);
  assert.deepEqual(
    pubs.map((p) => [p.offset, p.data, p.user]),
    [
      [1, { text: "oh **** it", mood: "sad" }, "alice"],
      [2, "fine", "alice"],
    ],
    "the refused publish is not published",
  );
  assert.equal(writer.state, "connected", "a refused publish leaves the connection open");
});

test("session:logout closes the connection with 4500: the client is closed and does not reconnect", bounded, async (t) => {
  const c = await signedIn(t, "s3");
  const states = record(c, "state");
  await assert.rejects(c.rpc("session:logout"), (e) => e instanceof WSGatewayError && e.closeCode == 4500);
  await waitFor("closed", () => c.state == "closed");
  const closed = states.find((s) => s.state == "closed");
  assert.equal(closed.code, 4500);
  assert.equal(closed.reason, "signed out");
  assert.ok(closed.error instanceof WSGatewayError && closed.error.code == "closed", String(closed.error));
  await new Promise((r) => setTimeout(r, 500)); // more than the 100 ms first backoff
  assert.deepEqual(
    states.map((s) => s.state),
    ["closed"],
    "no reconnect after a terminal close",
  );
});
