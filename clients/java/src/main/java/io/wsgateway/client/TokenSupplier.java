package io.wsgateway.client;

import java.util.concurrent.CompletionStage;

/**
 * Gives the client a fresh JWT: before the current one expires (sent in-band with {@code refresh}) and after a
 * 4001 close. The client never calls it twice at once: concurrent needs share one call. Called on the
 * client's event thread, never concurrently (an implementation need not be thread-safe); do slow work
 * asynchronously and return a stage that completes later.
 */
@FunctionalInterface
public interface TokenSupplier {
  CompletionStage<String> get();
}
