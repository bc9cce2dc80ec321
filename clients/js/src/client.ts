import { Emitter } from "./emitter.js";
import { DisconnectedError, TimeoutError, UnauthorizedError, WSGatewayError, errorFor } from "./errors.js";
import { hidden, listen } from "./lifecycle.js";
import { NEW_TOKEN, STABLE_AFTER, STAY, decide, delay } from "./policy.js";
import { StorageLike, loadPositions, savePositions } from "./positions.js";
import { Channels } from "./channels.js";
import type { Publication, Subscription } from "./subscription.js";
import { Tabs, TabsMode, startTabs } from "./tabs-seam.js";
import { Tokens } from "./token.js";
import { Transport, WebSocketLike, webSocketDial } from "./transport.js";

/** ClientState: disconnected (new, or after disconnect()), connecting, connected, closed (terminal close). */
export type ClientState = "disconnected" | "connecting" | "connected" | "closed";

/** ClientStateEvent: code and reason are set when a close caused the change; error when it is terminal. */
export interface ClientStateEvent {
  state: ClientState;
  code?: number;
  reason?: string;
  error?: WSGatewayError;
}

/** ConnectInfo is the connect command's result. */
export interface ConnectInfo {
  client: string;
  user: string;
  node: string;
  zone: string;
  ping_interval: number;
  /** The connect hook's data for this client, when it gave any. */
  data?: unknown;
}

/** ClientEvents are the events of a Client. */
export interface ClientEvents {
  state: ClientStateEvent;
  /** Each successful connect, with the server's answer. */
  connected: ConnectInfo;
  /** Every publication of every subscription, after the offset checks. */
  publication: Publication;
  /** A backend worker's answer to a message sent with send(), unless sendAndWait took it. */
  reply: Reply;
  /** Trouble the library handles by itself (getToken failed, a refresh was refused), for logging. */
  error: Error;
}

/** ClientOptions configure a Client; every one is optional. */
export interface ClientOptions {
  /** A JWT for connect. Never sent once its exp has passed. */
  token?: string;
  /** Returns a fresh JWT: called when there is none, before exp (in-band refresh) and after a 4001 close. */
  getToken?: () => string | Promise<string>;
  /** The WebSocket constructor: default globalThis.WebSocket. In Node 20, pass the `ws` package's. */
  WebSocket?: WebSocketLike;
  /** How tabs of one origin share the connection: "independent" (default) or "shared". */
  tabs?: TabsMode;
  /** The backoff's first ceiling in ms (default 500): retry n waits up to minDelay * 2^n. */
  minDelay?: number;
  /** The backoff's largest ceiling in ms (default 20000). */
  maxDelay?: number;
  /** How long a call waits for its reply, in ms (default 10000). */
  timeout?: number;
  /** Whether to dial while the page is hidden (default true). */
  dialWhenHidden?: boolean;
  /** The key under which positions are kept in sessionStorage (default the URL). */
  name?: string;
  /** Where positions survive a reload: default globalThis.sessionStorage; null for nowhere. */
  storage?: StorageLike | null;
  /** The wall clock in ms (default Date.now); for tests. */
  now?: () => number;
  /** Uniform in [0, 1) (default Math.random); for tests. */
  random?: () => number;
}

/** PublishOptions: idempotencyKey defaults to a random one, kept across the retries of one call. */
export interface PublishOptions {
  idempotencyKey?: string;
}

/** SendResult is send's answer: the message id, and whether its idempotency key had been seen (then nothing new was queued and id is the first message's). */
export interface SendResult {
  id: string;
  duplicate: boolean;
}

/** SendAndWaitOptions: timeout is how long to wait for the reply once the message is queued, in ms (default the client's timeout). */
export interface SendAndWaitOptions extends PublishOptions {
  timeout?: number;
}

/** Reply is a worker's answer to a sent message: data, or error (code `internal` when the message failed for good). */
export interface Reply {
  id: string;
  data?: unknown;
  error?: WSGatewayError;
}

/** Position is a channel's offset and epoch. */
export interface Position {
  offset: number;
  epoch: string;
}

/** PresenceResult lists the connections subscribed to a channel. */
export interface PresenceResult {
  users: { user: string; client: string; node: string }[];
  count: number;
  truncated?: boolean;
}

/** HistoryResult: the channel's current position and publications, ascending by offset. */
export interface HistoryResult extends Position {
  publications: Publication[];
  truncated?: boolean;
}

/** A command waiting for its reply, or for a connection to be sent on. */
interface Call {
  cmd: Record<string, unknown>;
  done: (err: WSGatewayError | undefined, result?: any) => void;
  id?: number;
  timer?: any;
  retry?: boolean; // publish, send: survive a dropped connection, and `unavailable`
  last?: string; // the `unavailable` message of the last try, for the timeout's
}

/** How many unclaimed replies are kept for a sendAndWait whose send answer came after its reply. */
const RECENT = 64;

const DEFAULT_PING = 25;

/**
 * Client is one logical connection to wsgateway that survives disconnects.
 * Single-threaded like everything in JavaScript: all its state changes run
 * on the event loop, from the transport's callbacks, timers and API calls.
 * gen numbers the dial attempts; a callback of an older attempt is ignored.
 */
export class Client extends Emitter<ClientEvents> {
  /** The current state. */
  state: ClientState = "disconnected";
  /** The last connect result. */
  info?: ConnectInfo;

  private _url: string;
  private _o: ClientOptions & { minDelay: number; maxDelay: number; timeout: number; now: () => number; random: () => number };
  private _name: string;
  private _t?: Transport;
  private _gen = 0;
  private _ready = false; // the connect reply came on _t
  private _want = false; // connect() called and neither disconnect() nor a terminal close since
  private _parked = false; // a dial waits for the page to be visible or shown again
  private _nextId = 1;
  private _inflight = new Map<number, Call>();
  private _waiting: Call[] = [];
  private _out: string[] = [];
  private _chans: Channels;
  private _attempt = 0;
  private _upAt = 0;
  private _timer?: any; // the pending dial
  private _tick?: any; // liveness and token refresh, while connected
  private _lastRecv = 0;
  private _ping = DEFAULT_PING * 1000;
  private _pinging = false;
  private _waiters: [() => void, (e: Error) => void][] = [];
  private _tokens: Tokens;
  private _unlisten?: () => void;
  private _tabs?: Tabs;
  private _ended = false; // disconnect() or a terminal close happened, and connect() was not called since
  private _recent = new Map<string, Reply>(); // unclaimed replies, oldest first
  private _awaits = new Map<string, [(r: Reply) => void, (e: Error) => void]>(); // sendAndWait calls by message id

  constructor(url: string, opts: ClientOptions = {}) {
    super();
    this._url = url;
    this._o = { minDelay: 500, maxDelay: 20000, timeout: 10000, now: Date.now, random: Math.random, ...opts };
    this._name = "wsgateway:" + (opts.name || url);
    this._tokens = new Tokens(opts.getToken, opts.token, this._o.now, (t) => this._tabs?.tokenShared(t));
    this._chans = new Channels(
      {
        conn: () => (this._ready ? this._gen : 0),
        send: (cmd, done) => this._send({ cmd, done }),
        publication: (p) => this._emit("publication", p),
        retryDelay: () => this._o.minDelay * (1 + this._o.random()),
      },
      loadPositions(this._store(), this._name),
    );
  }

  /** connect starts connecting; it resolves once connected and rejects only on a terminal outcome. */
  connect(): Promise<void> {
    if (this.state == "connected") return Promise.resolve();
    const p = new Promise<void>((ok, fail) => this._waiters.push([ok, fail]));
    if (!this._want) {
      this._want = true;
      this._ended = false;
      this._attempt = 0;
      const dial = webSocketDial(this._o.WebSocket || (globalThis as any).WebSocket);
      this._tabs = startTabs(this._o.tabs || "independent", {
        url: this._url,
        name: this._name,
        dial,
        offerToken: (t) => this._tokens.offer(t) && this._ready && this._sendRefresh(t),
      });
      this._unlisten = listen({
        online: () => (this._t ? this._check(true) : this._dialNow()),
        offline: () => this._t && this._drop(1006, "offline"),
        hide: (persisted) => {
          this._save();
          if (!persisted) return;
          // into the back/forward cache: no socket, and no dial, until pageshow
          if (this._t) this._drop(1001, "page hidden", true);
          this._gen++;
          clearTimeout(this._timer);
          this._parked = true;
        },
        show: () => this._parked && this._dialNow(),
        visible: () => (this._t ? this._check(true) : this._parked && this._dialNow()),
      });
      this._set({ state: "connecting" });
      this._dial();
    }
    return p;
  }

  /** disconnect closes the connection, stops reconnecting and removes every listener and timer the library added. */
  disconnect(): void {
    if (this._want) this._save();
    const t = this._t;
    this._t = undefined;
    this._stop(new DisconnectedError("disconnect() called"));
    t?.close(1000, "disconnect");
    this._set({ state: "disconnected" });
  }

  /** subscribe returns a handle on channel; handles of one channel share one server subscription. */
  subscribe(channel: string, opts: { data?: unknown } = {}): Subscription {
    return this._chans.subscribe(channel, opts.data);
  }

  /** publish resolves to the publication's position. It is retried, with the same idempotency key, after a dropped connection or `unavailable`, until the timeout. */
  publish(channel: string, data: unknown, opts: PublishOptions = {}): Promise<Position> {
    const key = opts.idempotencyKey || newKey();
    return this._call({ op: "publish", channel, data, idempotency_key: key }, true);
  }

  /** send queues data for the backend workers of topic and resolves once it is durably queued; retried like publish, with the same idempotency key. Replies come as `reply` events. */
  send(topic: string, data: unknown, opts: PublishOptions = {}): Promise<SendResult> {
    return this._call({ op: "send", topic, data, idempotency_key: opts.idempotencyKey || newKey() }, true);
  }

  /**
   * sendAndWait is send, then the worker's reply: it resolves to the reply's data or rejects with its error.
   * A reply taken here is no `reply` event, unless it came before send's answer. The reply reaches only the
   * connection that sent the message, so a dropped connection rejects it (`disconnected`).
   */
  async sendAndWait<T = unknown>(topic: string, data: unknown, opts: SendAndWaitOptions = {}): Promise<T> {
    const { id } = await this.send(topic, data, opts);
    const early = this._recent.get(id);
    if (this._recent.delete(id)) return early!.error ? Promise.reject(early!.error) : (early!.data as T);
    return new Promise((ok, fail) => {
      const ms = opts.timeout ?? this._o.timeout;
      const end = () => (clearTimeout(timer), this._awaits.delete(id));
      const timer = setTimeout(() => (end(), fail(new TimeoutError(`send ${topic}: no reply to ${id} within ${ms} ms`))), ms);
      this._awaits.set(id, [(r) => (end(), r.error ? fail(r.error) : ok(r.data as T)), (e) => (end(), fail(e))]);
    });
  }

  /** presence lists the connections subscribed to channel (at most limit when given). */
  presence(channel: string, opts: { limit?: number } = {}): Promise<PresenceResult> {
    return this._call({ op: "presence", channel, limit: opts.limit });
  }

  /** history returns publications after since (exclusive), or the latest limit without since. */
  history(channel: string, opts: { since?: number; limit?: number } = {}): Promise<HistoryResult> {
    return this._call({ op: "history", channel, since: opts.since, limit: opts.limit });
  }

  /** rpc calls method on the backend and resolves to the result's data. */
  async rpc<T = unknown>(method: string, data?: unknown): Promise<T> {
    return (await this._call({ op: "rpc", method, data })).data;
  }

  private _store(): StorageLike | null | undefined {
    if (this._o.storage !== undefined) return this._o.storage;
    try {
      return (globalThis as any).sessionStorage;
    } catch {
      return null; // access throws where storage is blocked
    }
  }

  private _save(): void {
    savePositions(this._store(), this._name, this._chans.positions());
  }

  private _set(e: ClientStateEvent): void {
    if (e.state == this.state) return;
    this.state = e.state;
    this._emit("state", e);
  }

  // ---- dialing and closing

  private _dialNow(): void {
    if (!this._want || this._t) return;
    this._parked = false;
    this._dial();
  }

  private async _dial(): Promise<void> {
    clearTimeout(this._timer);
    this._timer = undefined;
    const g = ++this._gen;
    if (this._o.dialWhenHidden === false && hidden()) {
      this._parked = true;
      return;
    }
    try {
      await this._tabs!.beforeDial();
      const token = g == this._gen && (await this._tokens.forDial());
      if (g != this._gen) return;
      this._nextId = 1;
      this._t = this._tabs!.dial(this._url, {
        open: () => g == this._gen && this._open(token || undefined),
        message: (f) => g == this._gen && this._frame(f),
        close: (code, reason) => g == this._gen && this._closed(code, reason),
      });
    } catch (err: any) {
      if (g != this._gen) return;
      if (err instanceof UnauthorizedError) return this._terminal(err);
      // the WebSocket constructor refuses the URL (a SyntaxError in ws, a DOMException named so in browsers): no retry can fix that
      if (err?.name == "SyntaxError") return this._terminal(new WSGatewayError("closed", `dial ${this._url}: ${err.message}`));
      this._emit("error", err);
      this._retry(1);
    }
  }

  private _open(token: string | undefined): void {
    const g = this._gen;
    this._send(
      {
        cmd: { op: "connect", token },
        done: (err, r: ConnectInfo) => {
          if (g != this._gen) return;
          // an unauthorized connect is followed by a 4001 close: act on it now, as on the close
          if (err) return err.code == "disconnected" || this._drop(err.code == "unauthorized" ? 4001 : 1006, err.message);
          this._connected(r);
        },
      },
      true,
    );
  }

  private _connected(r: ConnectInfo): void {
    this.info = r;
    this._ready = true;
    this._upAt = this._lastRecv = this._o.now();
    this._ping = (r.ping_interval || DEFAULT_PING) * 1000;
    // a tick of at most a second: the checks compare wall-clock times, so a late tick (sleep, a throttled tab) still sees the truth
    this._tick = setInterval(() => this._check(false), Math.min(1000, this._ping / 4));
    this._set({ state: "connected" });
    this._emit("connected", r);
    this._waiters.splice(0).forEach(([ok]) => ok());
    this._chans.connected();
    this._waiting.splice(0).forEach((c) => this._send(c));
  }

  /** _drop ends the current connection from this side, as if the server had closed with code. */
  private _drop(code: number, reason: string, noRetry?: boolean): void {
    const t = this._t!;
    this._closed(code, reason, noRetry); // first: it retires this connection, so t's own close event is ignored
    t.close(1000, reason); // browsers only let a client send 1000 or 3000-4999
  }

  /** _closed handles the end of the current connection. */
  private _closed(code: number, reason: string, noRetry?: boolean): void {
    const lived = this._upAt ? this._o.now() - this._upAt : 0;
    this._gen++;
    this._t = undefined;
    this._ready = this._pinging = false;
    this._upAt = 0;
    clearInterval(this._tick);
    const lost = new DisconnectedError(`connection closed: ${code} ${reason}`, code);
    this._inflight.forEach((c) => (c.retry ? this._waiting.push(c) : this._settle(c, lost)));
    this._inflight.clear();
    this._awaits.forEach(([, fail]) => fail(lost));
    this._chans.lost();
    const d = decide(code);
    if (d == STAY) return this._terminal(new WSGatewayError("closed", `connection closed: ${code} ${reason}`, code), code, reason);
    if (d == NEW_TOKEN) {
      if (!this._o.getToken) return this._terminal(new UnauthorizedError(`connection closed: ${code} ${reason}`, code), code, reason);
      this._tokens.drop();
    }
    if (lived >= STABLE_AFTER) this._attempt = 0;
    this._set({ state: "connecting", code, reason });
    if (!noRetry) this._retry(d);
  }

  private _retry(d: number): void {
    const ms = delay(d, this._attempt++, this._o.minDelay, this._o.maxDelay, this._o.random);
    this._timer = setTimeout(() => this._dial(), ms);
  }

  /** _stop ends reconnecting and fails everything waiting with err. */
  private _stop(err: WSGatewayError): void {
    this._want = this._parked = false;
    this._ended = true;
    this._gen++;
    this._ready = false;
    clearTimeout(this._timer);
    clearInterval(this._tick);
    this._unlisten?.();
    this._tabs?.stop();
    this._unlisten = this._tabs = undefined;
    this._inflight.forEach((c) => this._settle(c, err));
    this._inflight.clear();
    this._waiting.splice(0).forEach((c) => this._settle(c, err));
    this._waiters.splice(0).forEach(([, fail]) => fail(err));
    this._awaits.forEach(([, fail]) => fail(err));
    this._chans.lost();
  }

  private _terminal(err: WSGatewayError, code?: number, reason?: string): void {
    this._stop(err);
    this._set({ state: "closed", code, reason, error: err });
  }

  // ---- liveness and tokens

  /** _check runs on the tick and on wake-up events: a dead socket, a ping, a token refresh, on the wall clock. */
  private _check(now: boolean): void {
    if (!this._ready) return;
    const t = this._o.now();
    if (t - this._lastRecv >= 2 * this._ping) return this._drop(1006, "no traffic for twice the ping interval");
    if (!this._pinging && (now || t - this._lastRecv >= this._ping / 2)) {
      this._pinging = true;
      this._call({ op: "ping" }).then(
        () => (this._pinging = false),
        () => (this._pinging = false),
      );
    }
    if (t >= this._tokens.at) this._refresh();
  }

  /** _refresh gets a fresh token and sends it in-band; one chain at a time, since the new token sets the next. */
  private async _refresh(): Promise<void> {
    this._tokens.at = Infinity;
    try {
      const t = await this._tokens.fresh();
      if (this._ready) await this._sendRefresh(t);
    } catch (e: any) {
      this._tokens.retryLater(); // until exp: then the server closes with 4001 and the reconnect gets a token
      this._emit("error", e);
    }
  }

  private _sendRefresh(t: string): Promise<void> {
    return this._call({ op: "refresh", token: t }).catch((e) => this._emit("error", e));
  }

  // ---- calls and frames

  private _call(cmd: Record<string, unknown>, retry?: boolean): Promise<any> {
    // after disconnect() or a terminal close nothing will send it: say so now rather than at the timeout
    if (this._ended) return Promise.reject(new DisconnectedError(`${cmd.op}: the client is ${this.state}; call connect() first`));
    return new Promise((ok, fail) => {
      const c: Call = { cmd, retry, done: (err, r) => (err ? fail(err) : ok(r)) };
      const why = () => `${cmd.op}: no reply within ${this._o.timeout} ms` + (c.last ? ` (last answer: unavailable: ${c.last})` : "");
      c.timer = setTimeout(() => this._settle(c, new TimeoutError(why())), this._o.timeout);
      this._ready ? this._send(c) : this._waiting.push(c);
    });
  }

  /** _send assigns the call an id on the current connection and queues its line; lines of one tick share a frame. */
  private _send(c: Call, first?: boolean): void {
    c.id = this._nextId++;
    this._inflight.set(c.id, c);
    if (first && !c.timer) c.timer = setTimeout(() => this._settle(c, new TimeoutError("connect: no reply")), this._o.timeout);
    if (this._out.push(JSON.stringify({ id: c.id, ...c.cmd })) == 1)
      queueMicrotask(() => {
        const f = this._out.splice(0).join("\n");
        if (this._t && f) this._t.send(f);
      });
  }

  private _settle(c: Call, err?: WSGatewayError, r?: unknown): void {
    clearTimeout(c.timer);
    if (c.id !== undefined && this._inflight.get(c.id) == c) this._inflight.delete(c.id);
    const i = this._waiting.indexOf(c);
    if (i >= 0) this._waiting.splice(i, 1);
    c.done(err, r);
  }

  private _frame(f: string): void {
    this._lastRecv = this._o.now();
    for (const line of f.split("\n")) {
      let m: any;
      try {
        m = JSON.parse(line);
      } catch {
        continue; // an empty or broken line carries nothing we could use
      }
      if (m && typeof m == "object") m.push == "reply" ? this._replyPush(m) : m.push ? this._chans.push(m) : this._reply(m);
    }
  }

  /** _replyPush hands a worker's reply to its sendAndWait, or keeps it among the recent ones and emits it. */
  private _replyPush(m: any): void {
    const r: Reply = { id: m.id };
    m.error ? (r.error = errorFor(m.error, "send")) : (r.data = m.data);
    const w = this._awaits.get(r.id);
    if (w) return w[0](r);
    this._recent.set(r.id, r);
    if (this._recent.size > RECENT) this._recent.delete(this._recent.keys().next().value!);
    this._emit("reply", r);
  }

  private _reply(m: any): void {
    const c = this._inflight.get(m.id);
    if (!c) return;
    if (!m.error) return this._settle(c, undefined, m.result);
    if (c.retry && m.error.code == "unavailable") {
      // publish and send with their idempotency key are safe to send again
      // it waits in _waiting, so a reconnect sends it at once and disconnect() fails it
      this._inflight.delete(c.id!);
      this._waiting.push(c);
      c.last = m.error.message;
      const t = setTimeout(() => {
        const i = this._waiting.indexOf(c);
        if (this._ready && i >= 0) this._send(this._waiting.splice(i, 1)[0]);
      }, this._o.random() * this._o.minDelay);
      const done = c.done;
      c.done = (e, r) => (clearTimeout(t), done(e, r));
      return;
    }
    this._settle(c, errorFor(m.error, String(c.cmd.op)));
  }
}

/** newKey returns a random idempotency key. */
function newKey(): string {
  const c = (globalThis as any).crypto;
  return "js-" + (c?.randomUUID ? c.randomUUID() : Math.random().toString(36).slice(2) + Date.now().toString(36));
}
