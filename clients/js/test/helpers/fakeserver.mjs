// An in-process wsgateway stand-in for the unit tests: a real WebSocket
// server (ws) on 127.0.0.1, port 0, that speaks the protocol's happy path by
// itself (connect, subscribe with recovery from its own history, publish
// with idempotency keys and live pushes, presence, history, ping, refresh,
// rpc, send with idempotency keys and reply pushes to the sending
// connection) and lets a test script any reply or inject faults: drop the socket,
// delay or withhold replies, close with any code, push a gap or a duplicate,
// batch several lines in one frame.
import { WebSocketServer, WebSocket } from "ws";

export { WebSocket };

/**
 * fakeServer starts a server. Its `handle(cmd, conn)` hook, when set, runs
 * first for every command: return undefined for the default reply, null for
 * no reply at all, or an object to send as the reply line ({id} is added).
 */
export async function fakeServer({ pingInterval = 25 } = {}) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((ok, fail) => (wss.once("listening", ok), wss.once("error", fail)));
  const srv = {
    url: `ws://127.0.0.1:${wss.address().port}/ws`,
    conns: [],
    commands: [], // every command, parsed, with .conn (its connection's index)
    frames: [], // every frame received, raw
    channels: new Map(), // name -> {epoch, pubs: [{channel, offset, epoch, data, user?}], keys: Map}
    pingInterval,
    handle: undefined,
    inbox: [], // every message queued by send: {id, topic, data, key, conn}
    /** reply pushes a worker's answer ({data} or {error}) to the connection that sent message id, if still open. */
    reply(id, body) {
      const m = this.inbox.find((m) => m.id == id);
      const conn = m && this.conns[m.conn];
      if (!conn || conn.closed) return false;
      conn.send({ push: "reply", id, ...body });
      return true;
    },
    channel(name) {
      let c = this.channels.get(name);
      if (!c) this.channels.set(name, (c = { epoch: "E1", pubs: [], keys: new Map() }));
      return c;
    },
    /** publish appends a publication and pushes it to every subscribed connection. */
    publish(name, data, user) {
      const c = this.channel(name);
      const p = { channel: name, offset: c.pubs.length + 1, epoch: c.epoch, data };
      if (user) p.user = user;
      c.pubs.push(p);
      for (const conn of this.conns) if (conn.subs.has(name)) conn.send({ push: "pub", ...p });
      return p;
    },
    ops(op) {
      return this.commands.filter((c) => c.op == op);
    },
    last() {
      return this.conns[this.conns.length - 1];
    },
    async close() {
      for (const c of this.conns) c.ws.terminate();
      await new Promise((ok) => wss.close(ok));
    },
  };
  wss.on("connection", (ws) => {
    const conn = {
      ws,
      index: srv.conns.length,
      subs: new Set(),
      closed: false,
      /** send writes one frame of the given lines (objects or raw strings). */
      send(...lines) {
        if (ws.readyState == WebSocket.OPEN)
          ws.send(lines.map((l) => (typeof l == "string" ? l : JSON.stringify(l))).join("\n"));
      },
      close(code, reason = "") {
        ws.close(code, reason);
      },
      drop() {
        ws.terminate();
      },
    };
    ws.on("close", () => (conn.closed = true));
    srv.conns.push(conn);
    ws.on("message", (data) => {
      const f = String(data);
      srv.frames.push(f);
      const replies = [];
      for (const line of f.split("\n")) {
        const cmd = JSON.parse(line);
        cmd.conn = conn.index;
        srv.commands.push(cmd);
        const custom = srv.handle?.(cmd, conn);
        if (custom === null) continue;
        const r = custom !== undefined ? custom : answer(srv, conn, cmd);
        if (r) replies.push({ id: cmd.id, ...r });
      }
      if (replies.length) conn.send(...replies);
    });
  });
  return srv;
}

function answer(srv, conn, cmd) {
  switch (cmd.op) {
    case "connect":
      return { result: { client: `C${conn.index}`, user: "alice", node: "n1", zone: "z", ping_interval: srv.pingInterval } };
    case "subscribe": {
      const c = srv.channel(cmd.channel);
      conn.subs.add(cmd.channel);
      const offset = c.pubs.length;
      const ok = cmd.recover && cmd.epoch == c.epoch && cmd.offset <= offset;
      return {
        result: { offset, epoch: c.epoch, recovered: !!ok, publications: ok ? c.pubs.slice(cmd.offset) : [] },
      };
    }
    case "unsubscribe":
      conn.subs.delete(cmd.channel);
      return { result: {} };
    case "publish": {
      const c = srv.channel(cmd.channel);
      const seen = cmd.idempotency_key && c.keys.get(cmd.idempotency_key);
      const p = seen || srv.publish(cmd.channel, cmd.data, "alice");
      if (cmd.idempotency_key) c.keys.set(cmd.idempotency_key, p);
      return { result: { offset: p.offset, epoch: p.epoch } };
    }
    case "presence":
      return { result: { users: [{ user: "alice", client: "C0", node: "n1" }], count: 1 } };
    case "history": {
      const c = srv.channel(cmd.channel);
      let pubs = cmd.since === undefined ? c.pubs : c.pubs.slice(cmd.since);
      if (cmd.limit) pubs = cmd.since === undefined ? pubs.slice(-cmd.limit) : pubs.slice(0, cmd.limit);
      return { result: { offset: c.pubs.length, epoch: c.epoch, publications: pubs } };
    }
    case "send": {
      const seen = cmd.idempotency_key && srv.inbox.find((m) => m.topic == cmd.topic && m.key == cmd.idempotency_key);
      if (seen) return { result: { id: seen.id, duplicate: true } };
      const id = `${cmd.topic}/0/${srv.inbox.length + 1}-0`;
      srv.inbox.push({ id, topic: cmd.topic, data: cmd.data, key: cmd.idempotency_key, conn: conn.index });
      return { result: { id, duplicate: false } };
    }
    case "rpc":
      return { result: { data: { echo: cmd.data, method: cmd.method } } };
    default:
      return { result: {} }; // ping, refresh
  }
}

/** waitFor polls cond every 5 ms until it is truthy, failing with what after ms. */
export async function waitFor(cond, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** events records a Client's or Subscription's events of one kind. */
export function record(emitter, event) {
  const seen = [];
  emitter.on(event, (e) => seen.push(e));
  return seen;
}

/** jwt makes an unsigned-looking token whose payload the client reads (exp in seconds). */
export function jwt(payload) {
  const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b({ alg: "HS256" })}.${b(payload)}.c2ln`;
}

/** memoryStorage is a sessionStorage stand-in. */
export function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), map: m };
}

/** fast are the Client options of a test: short backoff and timeouts, the ws WebSocket. */
export const fast = { WebSocket, minDelay: 5, maxDelay: 20, timeout: 2000, random: () => 0.5 };
