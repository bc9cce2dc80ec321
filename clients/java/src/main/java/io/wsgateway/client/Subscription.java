package io.wsgateway.client;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A subscription to one channel, made by {@link WsGatewayClient#subscribe}. It resubscribes by itself after
 * every reconnect, recovering by offset and epoch; a failed recovery is the state event with {@link
 * SubscriptionStateEvent#resyncNeeded()}. Thread-safe: every method may be called from any thread; its
 * state lives on the client's event thread, and listeners are called there.
 */
public final class Subscription {
  final WsGatewayClient client;
  final String channel;
  final List<SubscriptionListener> listeners = new CopyOnWriteArrayList<>();
  final com.google.gson.JsonElement data;

  // Event-thread state.
  volatile SubscriptionState state = SubscriptionState.SUBSCRIBING;
  long offset; // last offset delivered
  String epoch; // null until the first subscribe reply
  boolean wanted = true; // false after unsubscribe()
  CompletableFuture<Void> ready = new CompletableFuture<>();

  Subscription(WsGatewayClient client, String channel, com.google.gson.JsonElement data) {
    this.client = client;
    this.channel = channel;
    this.data = data;
  }

  public String channel() {
    return channel;
  }

  public SubscriptionState state() {
    return state;
  }

  /** Adds a listener; returns this, for chaining. */
  public Subscription addListener(SubscriptionListener listener) {
    listeners.add(listener);
    return this;
  }

  public void removeListener(SubscriptionListener listener) {
    listeners.remove(listener);
  }

  /**
   * Completes when the subscription is first subscribed; fails with the server's refusal (for example
   * permission_denied) or when the client closes for good.
   */
  public CompletableFuture<Void> ready() {
    return client.call(() -> ready).thenCompose(f -> f);
  }

  /** The last offset delivered to the listeners (0 before any) and its epoch; read on the event thread. */
  public CompletableFuture<PublishResult> position() {
    return client.call(() -> new PublishResult(offset, epoch));
  }

  /** Stops the subscription: sends unsubscribe when connected and forgets the channel. */
  public CompletableFuture<Void> unsubscribe() {
    return client.unsubscribe(this);
  }
}
