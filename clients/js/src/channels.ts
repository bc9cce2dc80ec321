import type { WSGatewayError } from "./errors.js";
import type { Positions } from "./positions.js";
import { Publication, Subscription, SubscriptionStateEvent } from "./subscription.js";

/** A channel's shared server subscription, behind all of its handles. */
interface Chan {
  name: string;
  handles: Set<Subscription>;
  state: SubscriptionStateEvent["state"];
  offset?: number; // the last offset delivered
  epoch?: string;
  data?: unknown;
  on: number; // the connection its subscribe was sent on; 0 for none
  timer?: any; // a subscribe retry after a transient error
}

/** Link is what Channels needs of the Client. */
export interface Link {
  /** conn numbers the current connection once its connect reply came; 0 while there is none. */
  conn(): number;
  /** send queues a command on the current connection; done gets its reply or why there was none. */
  send(cmd: Record<string, unknown>, done: (err: WSGatewayError | undefined, result?: any) => void): void;
  /** publication is called with every publication delivered, after the handles. */
  publication(p: Publication): void;
  /** retryDelay is the wait before subscribing again after a transient error, in ms. */
  retryDelay(): number;
}

/**
 * Channels owns the client's subscriptions: one server subscription per
 * channel, shared by its handles and counted; its position (offset, epoch)
 * and the checks that every offset is delivered once, in order: a duplicate
 * or older offset is dropped, a gap or a new epoch subscribes again with
 * recovery. It runs on the Client's event loop turns like the Client.
 */
export class Channels {
  private _map = new Map<string, Chan>();
  private _dirty = new Set<Chan>();

  constructor(private _link: Link, private _saved: Positions) {}

  /** subscribe returns a new handle on channel. */
  subscribe(channel: string, data: unknown): Subscription {
    let c = this._map.get(channel);
    const s = new Subscription(channel, (h) => {
      c!.handles.delete(h);
      this._sync(c!);
    });
    if (!c) {
      const p = this._saved[channel];
      this._map.set(channel, (c = { name: channel, handles: new Set(), state: "subscribing", on: 0, data }));
      if (p) [c.offset, c.epoch] = p;
      this._sync(c);
    }
    c.handles.add(s);
    s.state = c.state;
    return s;
  }

  /** connected subscribes every channel on a new connection, recovering those with a position. */
  connected(): void {
    this._map.forEach((c) => this._subscribe(c));
  }

  /** lost moves every channel back to subscribing after its connection ended. */
  lost(): void {
    this._map.forEach((c) => (clearTimeout(c.timer), this._state(c, { state: "subscribing" })));
  }

  /** positions returns the position of every channel that has one. */
  positions(): Positions {
    const p: Positions = {};
    this._map.forEach((c) => c.epoch !== undefined && (p[c.name] = [c.offset!, c.epoch]));
    return p;
  }

  /** push handles a push line of a channel (`pub`, `unsub`, `join`, `leave`). */
  push(m: any): void {
    const c = this._map.get(m.channel);
    if (!c || c.on != this._link.conn()) return;
    if (m.push == "unsub") {
      if (m.reason == "insufficient_state") return this._subscribe(c);
      this._map.delete(c.name);
      return this._state(c, { state: "unsubscribed", reason: m.reason });
    }
    if (m.push == "join" || m.push == "leave") return c.handles.forEach((h) => h._emit(m.push, { channel: c.name, user: m.user, client: m.client }));
    if (m.push != "pub" || c.state != "subscribed") return;
    if (m.epoch != c.epoch || m.offset > c.offset! + 1) {
      // a gap the server did not announce: end the subscription and recover from the last offset seen
      this._link.send({ op: "unsubscribe", channel: c.name }, () => {});
      return this._subscribe(c);
    }
    this._deliver(c, m);
  }

  private _deliver(c: Chan, p: any): void {
    if (p.offset <= c.offset!) return; // a duplicate, or older than what was delivered
    c.offset = p.offset;
    const { push, ...pub } = p;
    c.handles.forEach((h) => h._emit("publication", pub));
    this._link.publication(pub);
  }

  private _state(c: Chan, e: SubscriptionStateEvent): void {
    if (e.state == "subscribing" && c.state == "subscribing") return;
    c.state = e.state;
    c.handles.forEach((h) => h._set(e));
    if (e.state == "unsubscribed") c.handles.clear();
  }

  /** _sync sends what the channel's handle count asks for, after the current tick, so that a quick unsubscribe and subscribe cancel out. */
  private _sync(c: Chan): void {
    if (this._dirty.add(c).size > 1) return;
    queueMicrotask(() => {
      const conn = this._link.conn();
      this._dirty.forEach((c) => {
        if (c.handles.size == 0 && this._map.get(c.name) == c) {
          this._map.delete(c.name);
          if (conn && c.on == conn) this._link.send({ op: "unsubscribe", channel: c.name }, () => {});
        } else if (c.handles.size && conn && c.on != conn) this._subscribe(c);
      });
      this._dirty.clear();
    });
  }

  private _subscribe(c: Chan): void {
    const g = (c.on = this._link.conn());
    const recover = c.epoch !== undefined;
    if (c.state == "subscribed") this._state(c, { state: "subscribing" });
    const cmd = recover
      ? { op: "subscribe", channel: c.name, recover, offset: c.offset, epoch: c.epoch, data: c.data }
      : { op: "subscribe", channel: c.name, data: c.data };
    this._link.send(cmd, (err, r) => {
      if (c.on != g || this._map.get(c.name) != c) return;
      if (!err) {
        if (c.epoch != r.epoch || !r.recovered) c.offset = r.offset;
        c.epoch = r.epoch;
        const e: SubscriptionStateEvent = { state: "subscribed", recovered: !!r.recovered, wasRecovering: recover };
        if (r.data !== undefined) e.data = r.data; // from the namespace's subscribe hook
        this._state(c, e);
        (r.publications || []).forEach((p: any) => this._deliver(c, p));
        c.offset = Math.max(c.offset!, r.offset);
      } else if (err.code == "disconnected") {
        // subscribed again on the next connection
      } else if (/^(timeout|unavailable|rate_limited|internal)$/.test(err.code)) {
        c.on = 0;
        c.timer = setTimeout(() => this._sync(c), this._link.retryDelay());
      } else {
        this._map.delete(c.name);
        this._state(c, { state: "unsubscribed", error: err });
      }
    });
  }
}
