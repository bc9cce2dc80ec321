package io.wsgateway.client;

/**
 * The state of a {@link WsGatewayClient}, as CONTRACT.md section 8 names them. Immutable.
 *
 * <ul>
 *   <li>{@link #DISCONNECTED}: new, or after the user's own {@link WsGatewayClient#disconnect()};
 *   <li>{@link #CONNECTING}: dialing, or waiting to redial after a close the policy reconnects on;
 *   <li>{@link #CONNECTED}: the {@code connect} command succeeded;
 *   <li>{@link #CLOSED}: only after a terminal close code from the server (1000, 1003, 1007, 1008, 1009,
 *       4003, 4009, 4500..4999, or 4001 with no token supplier); the client will not dial again by itself.
 * </ul>
 */
public enum ClientState {
  DISCONNECTED,
  CONNECTING,
  CONNECTED,
  CLOSED
}
