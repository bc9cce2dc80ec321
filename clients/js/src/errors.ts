/**
 * WSGatewayError is every error the library rejects with. code is the
 * contract's error code (`permission_denied`, `unavailable`, an `app_*` code
 * from a backend...) or one of the library's own: `timeout`, `disconnected`
 * (the connection dropped, or disconnect() was called, before the reply),
 * `closed` (the server closed the connection for good: see closeCode).
 */
export class WSGatewayError extends Error {
  /** The contract's error code, or `timeout`, `disconnected`, `closed`. */
  readonly code: string;
  /** The WebSocket close code, when a close caused the error. */
  readonly closeCode?: number;

  constructor(code: string, message: string, closeCode?: number) {
    super(message);
    this.name = "WSGatewayError";
    this.code = code;
    this.closeCode = closeCode;
  }
}

/** UnauthorizedError: the token is missing, invalid or expired (code `unauthorized`, close 4001). */
export class UnauthorizedError extends WSGatewayError {
  constructor(message: string, closeCode?: number) {
    super("unauthorized", message, closeCode);
    this.name = "UnauthorizedError";
  }
}

/** TimeoutError: no reply within the client's `timeout` (code `timeout`). */
export class TimeoutError extends WSGatewayError {
  constructor(message: string) {
    super("timeout", message);
    this.name = "TimeoutError";
  }
}

/** DisconnectedError: the connection ended before the reply (code `disconnected`). */
export class DisconnectedError extends WSGatewayError {
  constructor(message: string, closeCode?: number) {
    super("disconnected", message, closeCode);
    this.name = "DisconnectedError";
  }
}

/** errorFor turns an error reply's `{code, message}` into the matching error class. */
export function errorFor(e: { code?: string; message?: string }, op: string): WSGatewayError {
  const msg = `${op}: ${e.message || e.code}`;
  return e.code === "unauthorized" ? new UnauthorizedError(msg) : new WSGatewayError(e.code || "internal", msg);
}
