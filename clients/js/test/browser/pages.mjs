// What the tabs and lifecycle browser tests share: a gateway with real
// tokens (testenv, any page origin allowed), an HTTP origin of the test's
// own that serves a bare test page and the freshly built
// dist/wsgateway.min.js, and the page's recorder. The test page hooks
// WebSocket so a test sees every dial (when, and which page holds an open
// socket) and every command sent, without touching the library.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { launchChromium } from "./chromium.mjs";
import { startTestenv } from "./testenv.mjs";
import { token, apiKey, secret, metric, publishAPI } from "../integration/env.mjs";

export { token, metric, publishAPI };

const page = `<!doctype html><meta charset="utf-8"><title>wsgateway browser test</title>
<script>
  // every WebSocket the library makes: its dial time and the socket
  window.dials = [];
  window.sockets = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      dials.push(Date.now());
      sockets.push(this);
    }
    send(frame) {
      for (const line of String(frame).split("\\n")) sent.push(JSON.parse(line));
      super.send(frame);
    }
  };
  window.sent = []; // every command sent on a WebSocket
</script>
<script src="/wsgateway.min.js"></script>
<script>
  // start makes the page's client and records its events in window.log
  window.start = (o) => {
    const opts = { token: o.token, tabs: o.tabs || "independent", minDelay: o.minDelay || 200, maxDelay: 2000, timeout: 5000 };
    if (o.zeroJitter) opts.random = () => 0; // the library's backoff adds no spread: only the tabs feature can
    const log = (window.log = { states: [], pubs: [], subs: [], gets: 0 });
    if (o.tokens) opts.getToken = () => (log.gets++, o.tokens.shift()); // hands out o.tokens in turn
    const c = (window.client = new WSGateway.Client(o.url, opts));
    c.on("state", (e) => log.states.push({ state: e.state, code: e.code, reason: e.reason }));
    if (o.channel) {
      const s = c.subscribe(o.channel);
      s.on("publication", (p) => log.pubs.push(p.offset));
      s.on("state", (e) => log.subs.push(e));
    }
    c.connect().catch(() => {});
  };
  window.openSockets = () => sockets.filter((s) => s.readyState == 1).length;
</script>`;

/**
 * startPages starts one node (gatewayArgs added) and the page origin, and
 * launches Chromium. It returns {env, origin, ws, browser, api(path, body),
 * publish(channel, data), connections(), close()}.
 */
export async function startPages(name, gatewayArgs = []) {
  const env = await startTestenv({
    name: "browser/" + name,
    gatewayArgs: ["--jwt-secret", secret, "--api-key", apiKey, "--allowed-origins", "*", ...gatewayArgs],
  });
  const script = readFileSync(new URL("../../dist/wsgateway.min.js", import.meta.url));
  const server = createServer((req, res) => {
    if (req.url == "/wsgateway.min.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(page);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  let browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    server.close();
    await env.close();
    throw err;
  }
  const node = env.info.nodes[0];
  return {
    env,
    browser,
    origin: `http://127.0.0.1:${server.address().port}/`,
    ws: node.ws,
    publish: (channel, data) => publishAPI(node.api, channel, data),
    connections: () => metric(node.admin, "wsgateway_connections"),
    async close() {
      await browser.close();
      server.close();
      return env.close();
    },
  };
}

/** openPage opens the test page in context and starts a client on it with opts (see window.start). */
export async function openPage(ctx, origin, opts, errors) {
  const p = await ctx.newPage();
  p.on("pageerror", (err) => errors.push(err.message));
  await p.goto(origin);
  if (opts) await p.evaluate((o) => window.start(o), opts);
  return p;
}

/** until polls cond (sync or async) every 50 ms for at most ms, then throws naming what. */
export async function until(what, cond, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
