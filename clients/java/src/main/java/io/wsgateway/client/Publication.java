package io.wsgateway.client;

import com.google.gson.JsonElement;

/**
 * One publication of a channel. {@code user} is the publisher, null for a publication made through the
 * backend API. {@code data} is the JSON value as published. Immutable (do not modify {@code data}).
 */
public record Publication(String channel, long offset, String epoch, JsonElement data, String user) {

  /** data decoded as type with Gson. */
  public <T> T data(Class<T> type) {
    return Protocol.GSON.fromJson(data, type);
  }
}
