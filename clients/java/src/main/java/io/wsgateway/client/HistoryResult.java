package io.wsgateway.client;

import java.util.List;

/**
 * A channel's stored publications, ascending by offset, with the channel's current {@code offset} and
 * {@code epoch}. Immutable.
 */
public record HistoryResult(long offset, String epoch, List<Publication> publications, boolean truncated) {}
