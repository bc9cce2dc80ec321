// What the integration tests share: real gateways from testenv (the Go
// harness, through ../browser/testenv.mjs) started with HS256 tokens and an
// API key, tokens signed here with node:crypto, the backend API and the
// node's /metrics over HTTP, the built package as users import it, and
// bounded waits. Nothing here is a fake: every test talks to bin/wsgateway.
//
// Run them alone (after `npm run build`; make test-js sets both variables):
//   WSG_TESTENV=$PWD/../../bin/testenv WSG_GATEWAY=$PWD/../../bin/wsgateway node --test test/integration/*.test.mjs
// The gateways' logs are in test-results/logs/integration/<env>/ (api, closes, drain, kill, rpc, tokens).
import { createHmac, randomUUID } from "node:crypto";
import WS from "ws";
import { Client } from "../../dist/index.js";
import { startTestenv } from "../browser/testenv.mjs";

export const secret = "integration-secret";
export const apiKey = "integration-key";

/**
 * token signs an HS256 JWT for sub with the given claims; ttl is seconds
 * from now (exp), and the default claims allow chat:* both ways and news:*
 * to read.
 */
export function token(sub, { ttl = 600, ...claims } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const body = { sub, iat: now, exp: now + ttl, subscribe: ["chat:*", "news:*"], publish: ["chat:*"], ...claims };
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = enc({ alg: "HS256", typ: "JWT" }) + "." + enc(body);
  return unsigned + "." + createHmac("sha256", secret).update(unsigned).digest("base64url");
}

/**
 * startEnv starts testenv with auth configured (and no --dev, so that
 * permissions are real) plus the given gateway flags. It returns testenv's
 * handle with api(node, path, body) and metric(node, name, labels) bound to
 * it; close it in `after`. name names the folder of its logs in test-results/logs/.
 */
export async function startEnv(name, { nodes = 1, redis = false, lb = false, args = [] } = {}) {
  const env = await startTestenv({
    name: "integration/" + name,
    nodes,
    redis,
    lb,
    gatewayArgs: ["--jwt-secret", secret, "--api-key", apiKey, "--jwt-leeway", "0s", ...args],
  });
  env.api = (node, path, body) => api(env.info.nodes[node].api, path, body);
  env.metric = (node, name, labels) => metric(env.info.nodes[node].admin, name, labels);
  return env;
}

/**
 * bounded is every test's options: a test that waits on something that never
 * comes (a ready() or connect() that never settles) fails instead of hanging.
 */
export const bounded = { timeout: 30_000 };

/** api calls the backend API at base; it resolves to {status, body}. */
export async function api(base, path, body) {
  const res = await fetch(base + "/api/v1/" + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: "apikey " + apiKey, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

/** publishAPI publishes through the API and resolves to {offset, epoch}; any other answer throws. */
export async function publishAPI(base, channel, data) {
  const r = await api(base, "publish", { channel, data });
  if (r.status != 200) throw new Error(`API publish ${channel}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * metric reads one sample of /metrics at admin: the series name whose labels
 * include the given ones. The contract has every series exist from startup,
 * so an absent one throws (a misspelled name must not read as zero).
 */
export async function metric(admin, name, labels = {}) {
  const res = await fetch(admin + "/metrics", { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] == name && want.every((w) => (m[2] || "").includes(w))) return Number(m[3]);
  }
  throw new Error(`${admin}/metrics has no ${name}${JSON.stringify(labels)}`);
}

/**
 * RecordingWebSocket is the `ws` package's WebSocket, remembering each
 * instance the library creates, so a test can pause a socket's reading.
 */
export function recordingWebSocket() {
  const sockets = [];
  class RecordingWebSocket extends WS {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  return { WebSocket: RecordingWebSocket, sockets };
}

/**
 * newClient makes a Client for url with `ws` as its WebSocket, no storage
 * and short backoff, and disconnects it when the test ends.
 */
export function newClient(t, url, opts = {}) {
  const c = new Client(url, { WebSocket: WS, storage: null, minDelay: 100, maxDelay: 1000, timeout: 5000, ...opts });
  t.after(() => c.disconnect());
  return c;
}

/** record collects an emitter's events of one kind into an array. */
export function record(emitter, event) {
  const seen = [];
  emitter.on(event, (e) => seen.push(e));
  return seen;
}

/** waitFor polls cond (sync or async) every 20 ms until it is truthy, for at most ms; then it throws, naming what. */
export async function waitFor(what, cond, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > until) throw new Error(`waited ${ms} ms for ${what}`);
    await sleep(20);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** channel returns a fresh channel name in namespace ns, so that offsets start at 1. */
export const channel = (ns = "chat") => `${ns}:${randomUUID().slice(0, 8)}`;

/** offsetsOf lists the offsets of publications, for a deepEqual against 1..n. */
export const offsetsOf = (pubs) => pubs.map((p) => p.offset);

/** range returns [from, ..., to]. */
export const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Publisher publishes {n} numbered messages on channel through the API at
 * base, one after the other, until stop(); it keeps the offsets the API
 * answered. An API error is kept and rethrown by stop().
 */
export function publisher(base, channel, { pauseMs = 5 } = {}) {
  let running = true;
  let error;
  const offsets = [];
  const done = (async () => {
    for (let n = 1; running; n++) {
      try {
        const r = await publishAPI(base, channel, { n });
        offsets.push(r.offset);
      } catch (e) {
        error = e;
        return;
      }
      await sleep(pauseMs);
    }
  })();
  return {
    offsets,
    /** stop ends the loop and resolves to the number of messages published. */
    async stop() {
      running = false;
      await done;
      if (error) throw error;
      return offsets.length;
    },
  };
}
