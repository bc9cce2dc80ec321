package io.wsgateway.client;

/**
 * A change of the client's state. A change caused by a closed connection carries the close {@code code}
 * (1006 when the connection dropped without a close frame) and {@code reason}; otherwise code is 0.
 * {@code error} is set on {@link ClientState#CLOSED} (a {@link WsGatewayException} with the close code).
 * Immutable, so safe to share between threads.
 */
public record ClientStateEvent(ClientState state, int code, String reason, WsGatewayException error) {}
