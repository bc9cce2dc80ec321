package io.wsgateway.client;

/** The state of a {@link Subscription}. Immutable. */
public enum SubscriptionState {
  /** Waiting for the client to connect, or for the subscribe reply (also while recovering). */
  SUBSCRIBING,
  /** The subscribe reply came: publications flow. */
  SUBSCRIBED,
  /** The user unsubscribed, the server sent an {@code unsub} push, or the subscribe was refused. */
  UNSUBSCRIBED
}
