import { UnauthorizedError } from "./errors.js";

/** claims returns a JWT's payload, or {} when it cannot be read. */
function claims(token: string | undefined): any {
  try {
    const b = token!.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(b + "===".slice((b.length + 3) % 4))) || {};
  } catch {
    return {};
  }
}

/** expOf returns a JWT's `exp` in milliseconds, or Infinity when it has none or cannot be read. */
export function expOf(token: string | undefined): number {
  const exp = claims(token).exp;
  return typeof exp == "number" ? exp * 1000 : Infinity;
}

/**
 * refreshAt is when to refresh a token expiring at exp, obtained at now: a
 * third of its life before expiry, at least 10 s and at most 5 minutes before
 * (the contract: at the latest 10 s before).
 */
export function refreshAt(exp: number, now: number): number {
  return exp - Math.min(300000, Math.max(10000, (exp - now) / 3));
}

/**
 * Tokens owns the client's token: the current one, the single getToken call
 * that every concurrent need shares, and when to refresh in-band. A token
 * whose exp has passed is never handed out.
 */
export class Tokens {
  /** When to refresh in-band (ms on the wall clock); Infinity without getToken or exp. */
  at = Infinity;
  private _t?: string;
  private _p?: Promise<string>;

  constructor(
    private _get: (() => string | Promise<string>) | undefined,
    token: string | undefined,
    private _now: () => number,
    private _shared: (token: string) => void,
  ) {
    // the token option's exp schedules an in-band refresh too, as a token from getToken does
    if (token) this._use(token);
  }

  /** forDial returns the token for a connect: the current one while it lasts, else a fresh one. */
  async forDial(): Promise<string | undefined> {
    if (this._t && expOf(this._t) > this._now()) return this._t;
    if (!this._get) {
      if (this._t) throw new UnauthorizedError("token expired and no getToken");
      return undefined; // no token at all: the server may not need one (--dev, Authorization header)
    }
    return this.fresh();
  }

  /** fresh calls getToken, once for every concurrent need. */
  fresh(): Promise<string> {
    return (this._p ||= (async () => {
      try {
        const t = await this._get!();
        if (expOf(t) <= this._now()) throw new Error("getToken returned an expired token");
        this._shared(t);
        this._use(t);
        return t;
      } finally {
        this._p = undefined;
      }
    })());
  }

  /** offer keeps a token from elsewhere (another tab) if it expires later than the current one and names the same user. */
  offer(t: string): boolean {
    // another tab may be signed in as someone else: its token is not ours to use
    if (!this._t || claims(t).sub != claims(this._t).sub) return false;
    if (expOf(t) <= expOf(this._t) || expOf(t) <= this._now()) return false;
    this._use(t);
    return true;
  }

  /** drop forgets the current token: the server refused it (4001). */
  drop(): void {
    this._t = undefined;
  }

  /** retryLater moves the next refresh a few seconds on, after one failed. */
  retryLater(): void {
    this.at = this._now() + 5000;
  }

  private _use(t: string): void {
    this._t = t;
    const exp = expOf(t);
    // never sooner than 1 s from now: a getToken that keeps returning the same token is not asked on every tick
    this.at = this._get && exp < Infinity ? Math.max(refreshAt(exp, this._now()), this._now() + 1000) : Infinity;
  }
}
