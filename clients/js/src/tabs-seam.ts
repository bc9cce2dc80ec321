import type { Dial } from "./transport.js";

/**
 * The seam for the tabs feature (src/tabs/, `tabs` option). The Client calls
 * startTabs on connect() and stop() on disconnect() or a terminal close, and
 * in between:
 * - awaits beforeDial() before every dial (after the backoff wait): the
 *   independent mode spaces dials across tabs there with an advisory lock;
 * - calls tokenShared(token) with every token it got from getToken, so it can
 *   be offered to the other tabs, which hand one in with ctx.offerToken;
 * - dials through dial, whose default is ctx.dial (a WebSocket): the shared
 *   mode's follower tab returns a link to the leader tab instead.
 */
export interface Tabs {
  beforeDial(): Promise<void>;
  tokenShared(token: string): void;
  dial: Dial;
  stop(): void;
}

/** TabsContext is what the Client offers the tabs feature. */
export interface TabsContext {
  url: string;
  /** The storage and lock name of this client (option `name`, default the URL). */
  name: string;
  /** The default dial: a WebSocket of the WebSocket option. */
  dial: Dial;
  /** offerToken hands in a token from another tab; the client keeps it if it expires later than its own. */
  offerToken(token: string): void;
}

/** TabsMode is the `tabs` option. */
export type TabsMode = "independent" | "shared";

/** startTabs is the tabs feature's entry point (src/tabs/index.ts). */
export { startTabs } from "./tabs/index.js";
