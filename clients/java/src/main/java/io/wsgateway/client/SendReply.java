package io.wsgateway.client;

import com.google.gson.JsonElement;

/**
 * A worker's reply to a message sent with {@link WsGatewayClient#send}: {@code id} is the message id the send
 * returned; either {@code data} or {@code error} is set. Immutable.
 */
public record SendReply(String id, JsonElement data, WsGatewayException error) {}
