/** StorageLike is the part of sessionStorage the library uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Positions maps a channel to its last delivered [offset, epoch]. */
export type Positions = Record<string, [number, string]>;

/**
 * loadPositions reads what savePositions wrote on pagehide, so that a
 * reloaded page subscribes with recovery from where the old one stopped.
 * Storage may be absent, blocked or full: positions are then simply lost.
 */
export function loadPositions(s: StorageLike | null | undefined, key: string): Positions {
  try {
    const p = JSON.parse(s!.getItem(key)!);
    return p && typeof p == "object" ? p : {};
  } catch {
    return {};
  }
}

/** savePositions writes the positions under key, ignoring a storage that refuses. */
export function savePositions(s: StorageLike | null | undefined, key: string, p: Positions): void {
  try {
    s!.setItem(key, JSON.stringify(p));
  } catch {
    // no storage here: a reload will not recover
  }
}
