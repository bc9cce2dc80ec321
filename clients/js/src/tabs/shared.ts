import type { TabsContext } from "../tabs-seam.js";
import type { Dial, Transport, TransportHandlers } from "../transport.js";
import { Hub, Port } from "./hub.js";

/** A follower's link gives up (1006, and the Client retries) when no leader tab answers its hello within this. */
const HELLO_MS = 3000;
/** beforeDial waits at most this long for the election to name a leader, so a first dial knows where to go. */
const ELECT_MS = 2000;

const rid = () => Math.random().toString(36).slice(2);

/** A link from this tab's Client to the leader tab, over BroadcastChannel. */
interface Link {
  h: TransportHandlers;
  to?: string; // the leader that opened it
  timer?: any;
}

/**
 * shared is `tabs: "shared"` for one Client: one WebSocket for every tab
 * of a browser profile that uses the same name (option `name`, default the
 * URL), held by a leader tab.
 *
 * Election: every tab asks for an exclusive Web Lock and the one that holds
 * it leads for as long as it holds it; the browser releases it when that tab
 * closes or crashes, and the next tab in the lock's queue takes over. A
 * leader announces itself with a term one above the highest it has heard; a
 * leader that hears a higher term (or the same term from a higher id: a
 * tie) steps down, so two leaders never stay. A leader steps down on
 * pagehide and freeze too, so a tab going into the back/forward cache or
 * frozen in the background does not keep the others' connection frozen; a
 * follower whose hello goes unanswered while a leader is known steals the
 * lock (the only way two tabs can both think they lead, which the terms
 * then settle).
 *
 * The leader runs a Hub (hub.ts) that owns the socket; its own Client links
 * to it in process, the others through BroadcastChannel messages:
 *   who | lead{from,term}                 find and announce the leader
 *   hello{l} -> open{l,from}              a follower's link l opens
 *   up{l,to,d} / down{l,d}                frames either way
 *   bye{l,to} / close{l,c,r}              the follower / the leader ends a link
 * A follower's link ends when the leader changes, so its Client reconnects
 * to the new leader and recovers every channel from its own positions.
 */
export function shared(ctx: TabsContext, locks: any, post: (m: any) => void) {
  const me = rid();
  let term = 0; // the highest term heard or held
  let leading = 0; // this tab's term while it leads
  let leader: string | undefined;
  let hub: Hub | undefined;
  let release: (() => void) | undefined;
  let abort: AbortController | undefined;
  let stopped = false;
  const links = new Map<string, Link>();
  const ports = new Map<string, Port>(); // the followers' links, while leading
  const waiting: (() => void)[] = [];
  const known = () => waiting.splice(0).forEach((f) => f());

  /** elect queues for the leader lock; steal takes it from a leader that holds it but does not answer. */
  function elect(steal?: boolean): void {
    abort?.abort();
    abort = new AbortController();
    locks
      .request(ctx.name + ":leader", steal ? { steal } : { signal: abort.signal }, () => {
        if (stopped) return;
        leading = ++term;
        leader = me;
        hub = new Hub(ctx.url, ctx.dial);
        post({ t: "lead", from: me, term });
        closeLinks(1001, "this tab leads now"); // its Client dials again, in process
        known();
        return new Promise<void>((ok) => (release = ok)); // held while leading
      })
      .catch(() => {}); // aborted: stopped or hidden before it was granted
  }

  function abdicate(reason: string): void {
    if (!leading) return;
    leading = 0;
    leader = undefined;
    const h = hub;
    hub = undefined;
    ports.clear();
    h?.stop(1001, reason); // every tab, this one included, reconnects to the next leader
    release?.();
  }

  function closeLinks(code: number, reason: string): void {
    links.forEach((l, id) => (post({ t: "bye", l: id, to: l.to }), end(id, code, reason)));
  }

  function end(id: string, code: number, reason: string): void {
    const l = links.get(id);
    if (!l) return;
    links.delete(id);
    clearTimeout(l.timer);
    l.h.close(code, reason);
  }

  function msg(m: any): void {
    const l = links.get(m.l);
    if (m.t == "who" && leading) post({ t: "lead", from: me, term: leading });
    else if (m.t == "lead") {
      term = Math.max(term, m.term);
      if (leading) {
        if (m.term < leading || (m.term == leading && m.from < me)) return post({ t: "lead", from: me, term: leading });
        abdicate("another tab leads");
        elect();
      }
      leader = m.from;
      links.forEach((k, id) => (k.to ? k.to != m.from && end(id, 1001, "the leader tab changed") : post({ t: "hello", l: id })));
      known();
    } else if (l && m.t == "open" && !l.to) {
      l.to = m.from;
      clearTimeout(l.timer);
      l.h.open();
    } else if (l && m.t == "down") l.h.message(m.d);
    else if (l && m.t == "close") end(m.l, m.c, m.r);
    else if (m.t == "hello" && hub) serve(hub, m.l);
    else if (m.to == me) {
      const p = ports.get(m.l);
      if (m.t == "up") p ? hub!.frame(p, m.d) : post({ t: "close", l: m.l, c: 1001, r: "unknown link" });
      if (m.t == "bye" && p) ports.delete(m.l), hub?.detach(p);
    }
  }

  /** serve opens a follower's link l on the hub. */
  function serve(h: Hub, l: string): void {
    const p: Port = {
      send: (d) => post({ t: "down", l, d }),
      close: (c, r) => (ports.delete(l), post({ t: "close", l, c, r })),
    };
    ports.set(l, p);
    h.attach(p);
    post({ t: "open", l, from: me });
  }

  const dial: Dial = (url, h) => {
    if (hub) return local(hub, h);
    const id = rid();
    const l: Link = {
      h,
      timer: setTimeout(() => {
        // a leader that holds the lock but is frozen (no freeze event: a hung tab) answers nobody:
        // take the lock from it; its term is lower, so it steps down when it runs again
        if (leader && !stopped && !hub) elect(true);
        end(id, 1006, "no leader tab answered");
      }, HELLO_MS),
    };
    links.set(id, l);
    post({ t: "hello", l: id });
    return {
      send: (d) => post({ t: "up", l: id, to: l.to, d }),
      close: (c, r) => (post({ t: "bye", l: id, to: l.to }), end(id, c, r)),
    };
  };

  const onHide = (e: any) => {
    abort?.abort(); // a page going away, or into the back/forward cache, must not be elected
    abdicate("leader tab hidden");
    closeLinks(1001, "page hidden"); // the leader detaches this tab at once
  };
  const onShow = (e: any) => e.persisted && !leading && elect();
  // a tab the browser freezes (in the background, to save power) stops running: it leaves the lead first
  const onFreeze = () => onHide({});
  const onResume = () => onShow({ persisted: true });
  const w = globalThis as any;
  const d = w.document;
  w.addEventListener?.("pagehide", onHide);
  w.addEventListener?.("pageshow", onShow);
  d?.addEventListener?.("freeze", onFreeze);
  d?.addEventListener?.("resume", onResume);
  elect();
  post({ t: "who" });

  return {
    msg,
    dial,
    beforeDial: () => new Promise<void>((ok) => (leader ? ok() : (waiting.push(ok), setTimeout(ok, ELECT_MS)))),
    stop() {
      stopped = true;
      w.removeEventListener?.("pagehide", onHide);
      w.removeEventListener?.("pageshow", onShow);
      d?.removeEventListener?.("freeze", onFreeze);
      d?.removeEventListener?.("resume", onResume);
      abort?.abort();
      abdicate("leader tab stopped");
      closeLinks(1001, "stopped");
    },
  };
}

/** local links the leader tab's own Client to its hub, asynchronously like a socket. */
function local(hub: Hub, h: TransportHandlers): Transport {
  let open = true;
  const later = (f: () => void) => queueMicrotask(() => open && f());
  const p: Port = {
    send: (d) => later(() => h.message(d)),
    close: (c, r) => later(() => ((open = false), h.close(c, r))),
  };
  hub.attach(p);
  later(() => h.open());
  return {
    send: (d) => later(() => hub.frame(p, d)),
    close(c, r) {
      if (!open) return;
      open = false;
      hub.detach(p);
      h.close(c, r);
    },
  };
}
