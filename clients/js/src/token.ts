/** expOf returns a JWT's `exp` in milliseconds, or Infinity when it has none or cannot be read. */
export function expOf(token: string | undefined): number {
  try {
    const b = token!.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = JSON.parse(atob(b + "===".slice((b.length + 3) % 4))).exp;
    return typeof exp == "number" ? exp * 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

/**
 * refreshAt is when to refresh a token expiring at exp, obtained at now: a
 * third of its life before expiry, at least 10 s and at most 5 minutes before
 * (the contract: at the latest 10 s before).
 */
export function refreshAt(exp: number, now: number): number {
  return exp - Math.min(300000, Math.max(10000, (exp - now) / 3));
}
