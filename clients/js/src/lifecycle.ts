/** PageHooks are what the Client does on page lifecycle events. */
export interface PageHooks {
  online(): void;
  offline(): void;
  /** pagehide: persisted is true when the page goes into the back/forward cache. */
  hide(persisted: boolean): void;
  show(persisted: boolean): void;
  visible(): void;
}

declare const window: any, document: any;

/** hidden reports whether the page is hidden (never in Node). */
export const hidden = (): boolean => typeof document != "undefined" && document.visibilityState == "hidden";

/**
 * listen adds every window and document listener the library uses, and
 * returns the function that removes them all: this module is their only owner.
 * In Node it adds nothing.
 */
export function listen(h: PageHooks): () => void {
  if (typeof window == "undefined" || !window.addEventListener) return () => {};
  const on: [any, string, (e: any) => void][] = [
    [window, "online", () => h.online()],
    [window, "offline", () => h.offline()],
    [window, "pagehide", (e) => h.hide(!!e.persisted)],
    [window, "pageshow", (e) => h.show(!!e.persisted)],
    [document, "visibilitychange", () => hidden() || h.visible()],
  ];
  for (const [t, ev, fn] of on) t.addEventListener(ev, fn);
  return () => {
    for (const [t, ev, fn] of on) t.removeEventListener(ev, fn);
  };
}
