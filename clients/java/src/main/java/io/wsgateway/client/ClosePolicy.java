package io.wsgateway.client;

import java.util.random.RandomGenerator;

/**
 * What the client does after the server closes its connection with a given code: the contract's rule
 * (service/protocol/testdata/close_policy.json, generated from the server's source) as Java. The tests read
 * that file and check every code 1000..4999 and every backoff parameter against this class, so the two cannot
 * drift apart. Immutable and stateless: safe from any thread.
 */
public final class ClosePolicy {
  private ClosePolicy() {}

  /** What to do after a close. Immutable. */
  public enum Action {
    /** Reconnect after a backoff delay, then recover every subscription. */
    RECONNECT,
    /** Get a new token from the supplier first (the old one will be refused again), then reconnect. */
    NEW_TOKEN,
    /** Stop: the server asked for it, or a retry would repeat a client bug. */
    STAY_CLOSED
  }

  /** A backoff class (immutable): the wait before retry n is minDelay + random(0, max(window, min(cap, base * 2^n))). */
  public enum Backoff {
    /** The plain sequence. */
    FULL(0, 0),
    /** A node closed many clients at once (1001, 1012): even the first attempt spreads over a second. */
    SPREAD(0, 1000),
    /** Overloaded, or the client sent too much (1013, 4029): a second more. */
    SLOW(1000, 1000);

    final long minDelayMs;
    final long windowMs;

    Backoff(long minDelayMs, long windowMs) {
      this.minDelayMs = minDelayMs;
      this.windowMs = windowMs;
    }

    public long minDelayMs() {
      return minDelayMs;
    }

    public long windowMs() {
      return windowMs;
    }
  }

  /** The policy's defaults: base and cap of the exponential sequence, and when a connection counts as stable. */
  public static final long BASE_MS = 250;

  public static final long CAP_MS = 10_000;
  public static final long STABLE_AFTER_MS = 30_000;

  /** One code's rule; backoff is null for STAY_CLOSED. Immutable. */
  public record Rule(Action action, Backoff backoff) {}

  private static final Rule STAY = new Rule(Action.STAY_CLOSED, null);
  private static final Rule FULL = new Rule(Action.RECONNECT, Backoff.FULL);

  /** The rule for a close code; a code no rule names reconnects with the full sequence (the list may grow). */
  public static Rule rule(int code) {
    switch (code) {
      case 1000, 1003, 1007, 1008, 1009, 4003, 4009:
        return STAY;
      case 1001, 1012:
        return new Rule(Action.RECONNECT, Backoff.SPREAD);
      case 1013, 4029:
        return new Rule(Action.RECONNECT, Backoff.SLOW);
      case 4001:
        return new Rule(Action.NEW_TOKEN, Backoff.FULL);
      default:
        if (code >= 4500 && code <= 4999) {
          return STAY; // a backend's own terminal codes
        }
        return FULL;
    }
  }

  /**
   * The wait in milliseconds before retry attempt (from 0), with full jitter: uniform in [minDelay, minDelay
   * + max(window, min(cap, base * 2^attempt))).
   */
  public static long delayMs(Backoff backoff, int attempt, long baseMs, long capMs, RandomGenerator random) {
    long exp = capMs;
    if (attempt < 40) {
      exp = Math.min(capMs, baseMs << Math.max(0, attempt));
    }
    long span = Math.max(backoff.windowMs, exp);
    return backoff.minDelayMs + (span > 0 ? random.nextLong(span) : 0);
  }
}
