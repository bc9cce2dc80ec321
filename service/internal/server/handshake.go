package server

import (
	"net/http"
	"slices"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// handshakeRefusal returns the status and text with which an upgrade
// request that gorilla would accept must still be refused, or 0. gorilla
// checks the method, the Upgrade, Connection and version headers and the
// key; it does not check these:
//
//   - The HTTP version. RFC 6455 section 4.1: the opening handshake is an
//     HTTP/1.1 (or later) request. An HTTP/1.0 peer or proxy does not know
//     the Upgrade mechanism, and section 4.2.1 says to answer 400.
//   - The subprotocol. A client that offers subprotocols but not
//     wsgateway.v1 speaks something else: upgrading it without a
//     Sec-WebSocket-Protocol answer would make a browser fail the
//     connection after the upgrade (1006, nothing said), and any other
//     client talk past the server. A 400 that names the subprotocol tells
//     it why. A client that offers none still gets v1 (docs/protocol.md#transport).
func handshakeRefusal(r *http.Request) (int, string) {
	if !r.ProtoAtLeast(1, 1) {
		return http.StatusBadRequest, "a WebSocket upgrade needs HTTP/1.1"
	}
	if offered := websocket.Subprotocols(r); len(offered) > 0 && !slices.Contains(offered, protocol.Subprotocol) {
		return http.StatusBadRequest, "unsupported subprotocol: offer " + protocol.Subprotocol + " (or none)"
	}
	return 0, ""
}
