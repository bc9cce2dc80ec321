// Close codes from a real node: 4008 (a slow consumer: the client's socket
// stops reading during a burst, the node's small send queue overflows) →
// reconnect and recover with no offset lost; 4003 (POST /api/v1/disconnect)
// → closed for good.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bounded, channel, metric, newClient, offsetsOf, publishAPI, range, record, recordingWebSocket, sleep, startEnv, token, waitFor } from "./env.mjs";

let env;
let node;

before(async () => {
  env = await startEnv("closes", {
    // a send queue of 16 items (the least the node accepts) overflows soon after the kernel's socket
    // buffers fill; the recovery reply may carry the whole burst, so its byte budget is large
    args: ["--send-queue", "16", "--send-queue-bytes", String(16 << 20), "--max-reply-bytes", String(16 << 20), "--history-size", "100000"],
  });
  node = env.info.nodes[0];
});
after(() => env?.close());

test("4008: a client that stops reading during a burst is closed as a slow consumer, reconnects and recovers every offset", bounded, async (t) => {
  const { WebSocket, sockets } = recordingWebSocket();
  const c = newClient(t, node.ws, { token: token("alice"), WebSocket });
  const states = record(c, "state");
  await c.connect();
  const first = c.info.client;
  const ch = channel();
  const sub = c.subscribe(ch);
  const subStates = record(sub, "state");
  const pubs = record(sub, "publication");
  // the publications that came with the recovering subscribe reply: delivered right after its event
  let recovered = -1;
  sub.on("state", (e) => {
    if (!e.recovered) return;
    const before = pubs.length;
    queueMicrotask(() => (recovered = pubs.length - before));
  });
  await sub.ready();
  for (const n of range(1, 5)) await publishAPI(node.api, ch, { n });
  await waitFor("the first publications", () => pubs.length == 5);

  // the ws instance stops reading its net.Socket: the kernel's buffers fill, then the node's queue
  assert.equal(sockets.length, 1);
  sockets[0].pause();
  const slowBefore = await metric(node.admin, "wsgateway_slow_consumer_disconnects_total");
  const pad = "x".repeat(4096);
  let n = 5;
  let evicted = false;
  // at most 20,000 publications of 4 KiB (80 MiB): far beyond any loopback socket's buffers
  while (!evicted && n < 20_000) {
    await Promise.all(range(n + 1, n + 50).map((i) => publishAPI(node.api, ch, { n: i, pad })));
    n += 50;
    evicted = (await metric(node.admin, "wsgateway_slow_consumer_disconnects_total")) > slowBefore;
  }
  assert.ok(evicted, `no slow-consumer close after ${n} publications while the client did not read`);
  t.diagnostic(`slow-consumer close after ${n} publications of 4 KiB`);
  // resume at once: the node gives its close frame a few seconds to get through
  sockets[0].resume();

  await waitFor("a new connection", () => c.state == "connected" && c.info.client != first, 20_000);
  await waitFor("the subscription back", () => sub.state == "subscribed" && subStates.length == 3);
  for (const i of range(n + 1, n + 5)) await publishAPI(node.api, ch, { n: i });
  n += 5;
  await waitFor(`offset ${n}`, () => pubs.at(-1)?.offset >= n, 20_000);

  assert.deepEqual(
    states.map((e) => [e.state, e.code]),
    [
      ["connecting", undefined],
      ["connected", undefined],
      ["connecting", 4008],
      ["connected", undefined],
    ],
  );
  assert.deepEqual(subStates.slice(1), [{ state: "subscribing" }, { state: "subscribed", recovered: true, wasRecovering: true }]);
  // publications were published concurrently, so data.n follows offsets only within each batch: check offsets
  assert.deepEqual(offsetsOf(pubs), range(1, n), "every offset once, in order");
  assert.equal(new Set(pubs.map((p) => p.data.n)).size, n, "every message once");
  assert.ok(recovered > 0, `the recovering subscribe returned ${recovered} publications; the burst's tail was lost with the connection`);
  t.diagnostic(`${recovered} publications came back with the recovering subscribe`);
});

test("4003: POST /api/v1/disconnect closes the client for good", bounded, async (t) => {
  const { WebSocket, sockets } = recordingWebSocket();
  const c = newClient(t, node.ws, { token: token("carol"), WebSocket });
  const states = record(c, "state");
  await c.connect();
  const other = newClient(t, node.ws, { token: token("dave") });
  await other.connect();

  const r = await env.api(0, "disconnect", { user: "carol" });
  assert.deepEqual(r, { status: 200, body: {} });
  await waitFor("the closed state", () => c.state == "closed");
  const closed = states.at(-1);
  assert.equal(closed.code, 4003);
  assert.equal(closed.error?.closeCode, 4003);

  // longer than the client's largest backoff (maxDelay 1 s): no dial happens
  await sleep(1500);
  assert.equal(c.state, "closed");
  assert.equal(sockets.length, 1, "no new WebSocket after 4003");
  assert.deepEqual(
    states.map((e) => e.state),
    ["connecting", "connected", "closed"],
  );
  // another user's connection is untouched
  assert.equal(other.state, "connected");
  await other.publish(channel(), "still here");
});
