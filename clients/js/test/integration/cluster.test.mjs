// Two nodes on Redis behind HAProxy (testenv -nodes 2 -redis -lb): while a
// backend keeps publishing numbered messages through the API of the other
// node, the subscriber's node drains (SIGTERM, close 1012) or is killed
// (SIGKILL). The client must come back through HAProxy on the other node and
// recover: every offset exactly once, in order, and the subscription's state
// events say recovered.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bounded, channel, newClient, offsetsOf, publisher, range, record, startEnv, token, waitFor } from "./env.mjs";

/**
 * survives runs the scenario: cut(env, node) ends the subscriber's node;
 * closeCode is what the client must report for it.
 */
async function survives(t, name, { cut, closeCode, args = [] }) {
  const env = await startEnv(name, { nodes: 2, redis: true, lb: true, args });
  // random 0.5: the first retry after 1012 waits half a second (of its [0, 1 s) spread), so the
  // publisher certainly publishes while the client is away and recovery has something to return
  const c = newClient(t, env.info.lb, { token: token("alice"), random: () => 0.5 });
  t.after(() => env.close()); // after hooks run in order: the client is disconnected first
  const states = record(c, "state");
  await c.connect();
  const from = env.info.nodes.findIndex((n) => n.id == c.info.node);
  assert.ok(from >= 0, `connected to ${c.info.node}, not one of testenv's nodes`);
  const other = env.info.nodes[1 - from];

  const ch = channel();
  const sub = c.subscribe(ch);
  const subStates = record(sub, "state");
  const pubs = record(sub, "publication");
  // how many publications came with the recovering subscribe reply: they are delivered right after
  // its `subscribed` event, in the same turn of the event loop
  let recovered = -1;
  sub.on("state", (e) => {
    if (!e.recovered) return;
    const before = pubs.length;
    queueMicrotask(() => (recovered = pubs.length - before));
  });
  await sub.ready();

  const pub = publisher(other.api, ch);
  await waitFor("publications before the cut", () => pubs.length >= 10);
  await cut(env, from);
  await waitFor(`a connection to ${other.id}`, () => c.state == "connected" && c.info.node == other.id, 20_000);
  await waitFor("the subscription back", () => sub.state == "subscribed" && subStates.length == 3);
  const mark = pub.offsets.length;
  await waitFor("live publications after the recovery", () => pubs.length >= mark + 10);
  const n = await pub.stop();
  await waitFor(`offset ${n}`, () => pubs.at(-1)?.offset >= n);

  assert.deepEqual(offsetsOf(pubs), range(1, n), "every offset once, in order");
  assert.deepEqual(
    pubs.map((p) => p.data.n),
    range(1, n),
  );
  assert.deepEqual(
    states.map((e) => [e.state, e.code]),
    [
      ["connecting", undefined],
      ["connected", undefined],
      ["connecting", closeCode],
      ["connected", undefined],
    ],
  );
  assert.deepEqual(subStates, [
    { state: "subscribed", recovered: false, wasRecovering: false },
    { state: "subscribing" },
    { state: "subscribed", recovered: true, wasRecovering: true },
  ]);
  assert.ok(recovered > 0, `the recovering subscribe returned ${recovered} publications; the test needs some missed`);
  t.diagnostic(`${n} publications; ${recovered} came back with the recovering subscribe`);
  assert.ok((await env.metric(1 - from, "wsgateway_recoveries_total", { result: "recovered" })) >= 1);
  return { env, from };
}

test("a draining node (SIGTERM, 1012): the client recovers on the other node, every offset once", bounded, async (t) => {
  const { env, from } = await survives(t, "drain", {
    // HAProxy checks /readyz every 500 ms and needs two failures: the node leaves the pool well within
    // the drain delay, so the reconnect cannot land on it again
    args: ["--drain-delay", "2s", "--drain-window", "0s"],
    cut: (env, node) => env.command({ op: "signal", node, signal: "TERM" }),
    closeCode: 1012,
  });
  assert.deepEqual(await env.command({ op: "wait", node: from, timeout: 20 }), { exit_code: 0 });
});

test("a killed node (SIGKILL): the client recovers on the other node, every offset once", bounded, async (t) => {
  await survives(t, "kill", {
    cut: (env, node) => env.command({ op: "kill", node }),
    // the node's socket ends without a close frame; HAProxy passes that on as a plain TCP close
    closeCode: 1006,
  });
});
