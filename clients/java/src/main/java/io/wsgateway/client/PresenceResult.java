package io.wsgateway.client;

import java.util.List;

/**
 * Who is subscribed to a channel: {@code users} (possibly truncated by the server, then {@code truncated}
 * is true) and their {@code count}. Immutable.
 */
public record PresenceResult(List<User> users, long count, boolean truncated) {
  /** One connection subscribed to the channel. Immutable. */
  public record User(String user, String client, String node) {}
}
