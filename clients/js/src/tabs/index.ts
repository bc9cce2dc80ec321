import type { Tabs, TabsContext, TabsMode } from "../tabs-seam.js";
import { spacedDial } from "./independent.js";
import { shared } from "./shared.js";

/**
 * startTabs starts the `tabs` option's mode for one Client. Both modes need
 * Web Locks and BroadcastChannel; without them (Node, old browsers) every
 * dial goes ahead at once, spaced only by the reconnect policy's own jitter.
 * Both share fresh tokens: a tab that got one from getToken offers it to the
 * others, which keep it if it expires later than theirs and names the same
 * user (Tokens.offer decides).
 */
export function startTabs(mode: TabsMode, ctx: TabsContext): Tabs {
  const g = globalThis as any;
  const locks = g.navigator?.locks;
  if (!locks || !g.BroadcastChannel) return { beforeDial: () => Promise.resolve(), tokenShared() {}, dial: ctx.dial, stop() {} };
  const bc = new g.BroadcastChannel(ctx.name);
  bc.unref?.(); // Node (22+ has both APIs): the channel alone must not keep the process alive
  let open = true;
  const post = (m: any) => open && bc.postMessage(m);
  const s = mode == "shared" ? shared(ctx, locks, post) : undefined;
  bc.onmessage = (e: { data: any }) => (e.data?.t == "tok" ? ctx.offerToken(e.data.tok) : s?.msg(e.data));
  return {
    beforeDial: s ? s.beforeDial : spacedDial(ctx.name, locks),
    tokenShared: (tok) => post({ t: "tok", tok }),
    dial: s ? s.dial : ctx.dial,
    stop() {
      s?.stop();
      open = false;
      bc.close();
    },
  };
}
