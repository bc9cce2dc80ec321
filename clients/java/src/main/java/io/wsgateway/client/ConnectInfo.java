package io.wsgateway.client;

import com.google.gson.JsonElement;

/**
 * The result of the current connection's {@code connect} command: connection id, user (the token's sub),
 * node, zone, ping interval in seconds, and the connect hook's data (null when none). Immutable.
 */
public record ConnectInfo(String client, String user, String node, String zone, int pingInterval, JsonElement data) {}
