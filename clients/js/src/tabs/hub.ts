import type { Dial, Transport } from "../transport.js";

/**
 * Port is one tab's link to the hub, as the hub sees it: send delivers a
 * frame to that tab's Client, close ends its link (the tab reconnects by
 * its own close policy).
 */
export interface Port {
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** A channel's one server subscription behind the tabs that use it. */
interface Sub {
  /** The member tabs; a member whose reply is still being made buffers the publications meanwhile. */
  on: Map<Port, string[] | undefined>;
  /** Subscribes that wait for the server's answer to the first one. */
  q: [Port, any][];
  ok?: boolean;
  offset: number;
  epoch?: string;
  data?: unknown;
}

type Reply = (m: { result?: any; error?: any }) => void;

/**
 * Hub runs in the leader tab of `tabs: "shared"` and owns its one WebSocket.
 * Every tab's Client, the leader's own included, talks the ordinary protocol
 * to it through a Port, and the hub multiplexes them onto the socket:
 * - connect: the first one opens the socket with its token; the others get
 *   the same connect result;
 * - subscribe: one server subscription per channel, counted across tabs; the
 *   first subscribe goes to the server as sent (with its recovery position),
 *   a later tab that recovers from an older offset gets what it missed from
 *   `history`, with the publications that arrive meanwhile held back until
 *   its reply, so its Channels sees every offset once (and still drops
 *   duplicates and checks gaps by itself);
 * - every other command is sent on with an id of the hub's, and its reply
 *   routed back with the tab's id; publications go to the member tabs.
 * When the socket ends, every port is closed with the socket's code, so each
 * tab reconnects (or stops, on a terminal code) as it would on its own.
 * It runs on the leader tab's event loop; nothing else touches it.
 */
export class Hub {
  private _ws?: Transport;
  private _gen = 0;
  private _info?: any; // the connect result, once the socket is connected
  private _connects: [Port, number][] = [];
  private _ports = new Set<Port>();
  private _calls = new Map<number, (m: any) => void>();
  private _subs = new Map<string, Sub>();
  private _id = 1;
  private _last = 0;
  private _tick?: any;

  constructor(private _url: string, private _dial: Dial) {}

  /** attach adds a tab's port. */
  attach(p: Port): void {
    this._ports.add(p);
  }

  /** detach removes a port whose tab closed its link or left; channels nobody uses any more are unsubscribed. */
  detach(p: Port): void {
    if (!this._ports.delete(p)) return;
    this._subs.forEach((s, ch) => {
      s.on.delete(p);
      s.q = s.q.filter(([q]) => q != p);
      this._unused(ch, s);
    });
    if (!this._ports.size) this.stop(1000, "no tab left");
  }

  /** stop closes the socket and every port with code; a tab reconnects after 1001, to the next leader. */
  stop(code: number, reason: string): void {
    const ws = this._ws;
    this._end(code, reason);
    ws?.close(1000, reason);
  }

  /** frame takes one frame of commands from a tab. */
  frame(p: Port, f: string): void {
    for (const line of f.split("\n")) {
      let m: any;
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      if (m && this._ports.has(p)) this._cmd(p, m);
    }
  }

  private _cmd(p: Port, m: any): void {
    const { id, ...cmd } = m;
    const reply: Reply = (r) => this._ports.has(p) && p.send(JSON.stringify({ id, ...r }));
    if (cmd.op == "connect") {
      if (this._info) return reply({ result: this._info });
      this._connects.push([p, id]);
      if (!this._ws) this._open(cmd.token);
      return;
    }
    if (!this._info) return reply({ error: { code: "unavailable", message: "the leader tab has no connection" } });
    if (cmd.op == "subscribe") return this._sub(p, cmd, reply);
    if (cmd.op == "unsubscribe") {
      const s = this._subs.get(cmd.channel);
      if (s) {
        s.on.delete(p);
        s.q = s.q.filter(([q]) => q != p);
        this._unused(cmd.channel, s);
      }
      return reply({ result: {} });
    }
    this._send(cmd, reply);
  }

  private _open(token: string | undefined): void {
    const g = ++this._gen;
    this._ws = this._dial(this._url, {
      open: () =>
        this._send({ op: "connect", token }, (r) => {
          if (r.result) {
            this._info = r.result;
            this._last = Date.now();
            const ms = (r.result.ping_interval || 25) * 2000;
            // the tabs' pings pass through, so a silent socket is one that is dead (as the Client judges its own)
            this._tick = setInterval(() => Date.now() - this._last >= ms && this.stop(1006, "no traffic for twice the ping interval"), 1000);
          }
          this._connects.splice(0).forEach(([p, id]) => this._ports.has(p) && p.send(JSON.stringify({ id, ...r })));
        }),
      message: (f) => g == this._gen && this._in(f),
      close: (code, reason) => g == this._gen && this._end(code, reason),
    });
  }

  /** _end forgets the socket and closes every port with its close code. */
  private _end(code: number, reason: string): void {
    this._gen++;
    this._ws = this._info = undefined;
    clearInterval(this._tick);
    this._calls.clear();
    this._subs.clear();
    this._connects = [];
    const ports = [...this._ports];
    this._ports.clear();
    ports.forEach((p) => p.close(code, reason));
  }

  private _send(cmd: any, reply: Reply): void {
    const id = this._id++;
    this._calls.set(id, reply);
    this._ws?.send(JSON.stringify({ ...cmd, id }));
  }

  private _in(f: string): void {
    this._last = Date.now();
    for (const line of f.split("\n")) {
      let m: any;
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      if (!m || !m.push) {
        const r = this._calls.get(m?.id);
        this._calls.delete(m?.id);
        r?.({ result: m.result, error: m.error });
        continue;
      }
      // a push for the connection, not a channel: every tab hears it (a Client ignores what it does not know)
      if (m.channel === undefined) {
        this._ports.forEach((p) => p.send(line));
        continue;
      }
      const s = this._subs.get(m.channel);
      if (!s) continue;
      if (m.push == "pub") {
        s.offset = Math.max(s.offset, m.offset);
        s.epoch = m.epoch;
      }
      if (m.push == "unsub") this._subs.delete(m.channel); // every member hears it and subscribes again if it should
      s.on.forEach((buf, p) => (buf ? buf.push(line) : p.send(line)));
    }
  }

  private _sub(p: Port, cmd: any, reply: Reply): void {
    const ch = cmd.channel;
    let s = this._subs.get(ch);
    if (s?.ok) return this._join(s, p, cmd, reply);
    if (s) return void s.q.push([p, [cmd, reply]]);
    const n: Sub = (s = { on: new Map([[p, []]]), q: [], offset: 0 });
    this._subs.set(ch, n);
    this._send(cmd, (r) => {
      if (this._subs.get(ch) != n) return;
      if (r.error) {
        this._subs.delete(ch);
        reply(r);
        return n.q.forEach(([, [, rep]]) => rep(r));
      }
      n.ok = true;
      n.offset = r.result.offset;
      n.epoch = r.result.epoch;
      n.data = r.result.data;
      reply(r);
      this._flush(n, p);
      n.q.splice(0).forEach(([q, [c, rep]]) => this._join(n, q, c, rep));
      this._unused(ch, n);
    });
  }

  /** _join adds a tab to a channel the socket is subscribed to, with what it missed when it recovers. */
  private _join(s: Sub, p: Port, cmd: any, reply: Reply): void {
    const caught = { offset: s.offset, epoch: s.epoch, data: s.data };
    if (!cmd.recover || cmd.epoch != s.epoch || cmd.offset >= s.offset) {
      s.on.set(p, undefined);
      return reply({ result: { ...caught, recovered: !!cmd.recover && cmd.epoch == s.epoch } });
    }
    s.on.set(p, []);
    this._send({ op: "history", channel: cmd.channel, since: cmd.offset }, (r) => {
      const h = r.result;
      // a history the server cut short cannot recover: the tab hears recovered:false and resyncs
      const ok = h && !h.truncated && h.epoch == cmd.epoch;
      reply({ result: ok ? { ...caught, offset: h.offset, recovered: true, publications: h.publications } : { ...caught, recovered: false } });
      this._flush(s, p);
    });
  }

  /** _flush sends a new member the publications held back while its reply was made. */
  private _flush(s: Sub, p: Port): void {
    const buf = s.on.get(p);
    if (!buf) return;
    s.on.set(p, undefined);
    buf.forEach((l) => p.send(l));
  }

  /** _unused unsubscribes the socket from a channel no tab uses any more. */
  private _unused(ch: string, s: Sub): void {
    if (!s.ok || s.on.size || s.q.length || this._subs.get(ch) != s) return;
    this._subs.delete(ch);
    this._send({ op: "unsubscribe", channel: ch }, () => {});
  }
}
