package io.wsgateway.client;

/**
 * The result of {@link WsGatewayClient#send}: the inbox message id, and whether the idempotency key had been
 * seen (nothing was queued again). Immutable.
 */
public record SendResult(String id, boolean duplicate) {}
