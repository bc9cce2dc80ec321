/**
 * What to do after the server closes with a code: the contract's close-code
 * policy (service/protocol/testdata/close_policy.json, whose test checks every
 * code 1000..4999 against this table). Only the codes that differ from the
 * default (reconnect, full backoff) are listed.
 */
export const STAY = 0, FULL = 1, SPREAD = 2, SLOW = 3, NEW_TOKEN = 4;

/** [from, to, decision], ascending. */
const RULES: [number, number, number][] = [
  [1000, 1000, STAY],
  [1001, 1001, SPREAD],
  [1003, 1003, STAY],
  [1007, 1009, STAY],
  [1012, 1012, SPREAD],
  [1013, 1013, SLOW],
  [4001, 4001, NEW_TOKEN],
  [4003, 4003, STAY],
  [4009, 4009, STAY],
  [4029, 4029, SLOW],
  [4500, 4999, STAY],
];

/** decide returns STAY, FULL, SPREAD, SLOW or NEW_TOKEN (which backs off as FULL) for a close code. */
export function decide(code: number): number {
  for (const [from, to, d] of RULES) if (code >= from && code <= to) return d;
  return FULL;
}

/**
 * The backoff classes' [min_delay_ms, window_ms]: the wait before retry n is
 * min + random(0, max(window, min(maxDelay, minDelay * 2^n))). `spread` makes
 * even the first retry after a node closed many clients at once take a random
 * part of a second; `slow` waits a second more.
 */
export const CLASSES: Record<number, [number, number]> = {
  [FULL]: [0, 0],
  [NEW_TOKEN]: [0, 0],
  [SPREAD]: [0, 1000],
  [SLOW]: [1000, 1000],
};

/** A connection that stayed up this long resets the backoff sequence. */
export const STABLE_AFTER = 30000;

/** delay is the wait before retry n (from 0) for decision d; random is uniform in [0, 1). */
export function delay(d: number, n: number, minDelay: number, maxDelay: number, random: () => number): number {
  const [min, win] = CLASSES[d] || CLASSES[FULL];
  return min + random() * Math.max(win, Math.min(maxDelay, minDelay * 2 ** Math.min(n, 30)));
}

/** ClosePolicy is what the library does after a close code, in close_policy.json's words. */
export interface ClosePolicy {
  action: "reconnect" | "new_token" | "stay_closed";
  backoff?: "full" | "spread" | "slow";
}

/** closePolicy describes the library's decision for a close code, in close_policy.json's words. */
export function closePolicy(code: number): ClosePolicy {
  const d = decide(code);
  return d == STAY
    ? { action: "stay_closed" }
    : { action: d == NEW_TOKEN ? "new_token" : "reconnect", backoff: d == SPREAD ? "spread" : d == SLOW ? "slow" : "full" };
}
