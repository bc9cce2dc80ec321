package io.wsgateway.client;

/**
 * A failed call or a closed connection. {@code code} is the contract's error code ({@code bad_request},
 * {@code unauthorized}, {@code permission_denied}, {@code not_found}, {@code rate_limited}, {@code
 * too_many_subscriptions}, {@code unavailable}, {@code internal}, or a backend's {@code app_*} code), or
 * {@code closed} / {@code disconnected} / {@code timeout} for the client's own outcomes. {@code closeCode} is the
 * WebSocket close code when a close caused it, else 0. Immutable.
 */
public class WsGatewayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final int closeCode;

  public WsGatewayException(String code, String message, int closeCode) {
    super(code + ": " + message);
    this.code = code;
    this.closeCode = closeCode;
  }

  public String code() {
    return code;
  }

  public int closeCode() {
    return closeCode;
  }
}
