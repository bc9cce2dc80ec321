/**
 * The connection behind a Client, as a small interface, so that something
 * other than a WebSocket can stand in for it: the tabs feature's follower
 * tab substitutes a link to the leader tab that holds the real socket.
 *
 * A Transport carries frames of one or more JSON lines separated by "\n".
 * It calls open once, message per frame received, and close exactly once
 * (also when it never opened); after close it calls nothing more.
 */
export interface Transport {
  /** send writes one frame (one or more lines). */
  send(frame: string): void;
  /** close ends the connection; the handlers' close still follows. */
  close(code: number, reason: string): void;
}

/** TransportHandlers receive a Transport's events. */
export interface TransportHandlers {
  open(): void;
  message(frame: string): void;
  close(code: number, reason: string): void;
}

/** Dial opens a Transport to url. */
export type Dial = (url: string, h: TransportHandlers) => Transport;

/**
 * WebSocketLike is a WebSocket constructor: the browser's, or the `ws`
 * package's in Node 20. Its sockets are used through onopen, onmessage,
 * onclose, onerror, send and close only.
 */
export type WebSocketLike = new (url: string, protocols?: string | string[]) => any;

/** SUBPROTOCOL is the protocol version the library speaks. */
export const SUBPROTOCOL = "wsgateway.v1";

/** webSocketDial is the default Dial: one WebSocket per connection. */
export function webSocketDial(WS: WebSocketLike): Dial {
  return (url, h) => {
    const ws = new WS(url, SUBPROTOCOL);
    ws.onopen = () => h.open();
    ws.onmessage = (e: { data: unknown }) => h.message(String(e.data));
    ws.onclose = (e: { code: number; reason: string }) => h.close(e.code, e.reason);
    ws.onerror = () => {}; // a close event always follows
    return {
      send: (f) => ws.send(f),
      close: (code, reason) => {
        ws.onopen = ws.onmessage = ws.onclose = null;
        try {
          ws.close(code, reason);
        } catch {
          ws.close(); // the reason was over the 123 bytes a close frame allows
        }
        h.close(code, reason);
      },
    };
  };
}
