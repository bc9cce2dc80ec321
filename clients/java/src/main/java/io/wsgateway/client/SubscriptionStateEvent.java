package io.wsgateway.client;

/**
 * A change of a subscription's state. On {@link SubscriptionState#SUBSCRIBED}: {@code recovered} tells
 * whether the server delivered every publication missed since the last offset seen, and {@code
 * wasRecovering} whether the client asked for it (a resubscribe after a reconnect or a gap).
 *
 * <p><b>Resync needed</b>: {@code recovered == false && wasRecovering == true} (see {@link #resyncNeeded()}):
 * publications were lost, and the app must reload this channel's state from its own source of truth.
 *
 * <p>On {@link SubscriptionState#UNSUBSCRIBED}, {@code reason} is the server's unsub reason or the error's
 * message, and {@code error} the refusal if the subscribe was refused. Immutable.
 */
public record SubscriptionStateEvent(
    SubscriptionState state,
    boolean recovered,
    boolean wasRecovering,
    String reason,
    WsGatewayException error) {

  /** Whether the app must reload this channel's state: recovery was asked for and failed. */
  public boolean resyncNeeded() {
    return state == SubscriptionState.SUBSCRIBED && wasRecovering && !recovered;
  }
}
