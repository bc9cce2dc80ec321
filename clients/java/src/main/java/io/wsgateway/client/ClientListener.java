package io.wsgateway.client;

/**
 * Hears the client's state changes. Called on the client's single event thread, one event at a time and in
 * order; it must not block (hand long work to your own executor).
 */
@FunctionalInterface
public interface ClientListener {
  void onState(ClientStateEvent event);
}
