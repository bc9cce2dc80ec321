package io.wsgateway.client;

/** The position a publish got: its channel offset and epoch. Immutable. */
public record PublishResult(long offset, String epoch) {}
