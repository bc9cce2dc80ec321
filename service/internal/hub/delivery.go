package hub

import (
	"sync"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Delivery is one publication as every local subscriber receives it: the
// push line is encoded once per node, and the compressed WebSocket frame (for
// connections that negotiated permessage-deflate) is built at most once, on
// first use. A Delivery is immutable once created, except for that lazy frame.
type Delivery struct {
	Pub *protocol.Publication
	// Line is the JSON push, without a trailing newline.
	Line []byte

	prepareOnce sync.Once
	prepared    *websocket.PreparedMessage
}

// NewDelivery encodes p's push line.
func NewDelivery(p *protocol.Publication) *Delivery {
	line := make([]byte, 0, 96+len(p.Channel)+len(p.Epoch)+len(p.Data)+len(p.User)) // 96: keys, quotes, a 20-digit offset
	return &Delivery{Pub: p, Line: protocol.AppendPush(line, p)}
}

// Prepared returns the push as a prepared text frame, building it on the
// first call. gorilla caches each framing variant (compressed or not) inside
// the PreparedMessage, so compression runs once per node, not per client.
func (d *Delivery) Prepared() *websocket.PreparedMessage {
	d.prepareOnce.Do(func() {
		// NewPreparedMessage only fails for a close frame with a bad payload;
		// a text frame cannot fail, so a nil result is never returned below.
		d.prepared, _ = websocket.NewPreparedMessage(websocket.TextMessage, d.Line)
	})
	return d.prepared
}
