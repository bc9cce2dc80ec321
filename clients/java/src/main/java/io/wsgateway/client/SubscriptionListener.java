package io.wsgateway.client;

/**
 * Hears a subscription's publications and state changes. Called on the client's single event thread, in
 * order: every offset once, ascending, with no gap inside one subscribed period. Methods must not block.
 */
public interface SubscriptionListener {
  default void onPublication(Publication publication) {}

  default void onState(SubscriptionStateEvent event) {}
}
