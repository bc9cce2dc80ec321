package broker

import "github.com/wsgateway/wsgateway/service/protocol"

// Handler receives what the broker delivers to this node. The hub implements
// it. A broker calls it from its own goroutines (Memory: the publisher's), so
// an implementation must be safe for concurrent use and must return quickly.
type Handler interface {
	// HandlePublication is called once per publication on channels this node
	// is subscribed to (Memory: every channel), in offset order per channel,
	// never concurrently for the same channel. It must not block: the broker
	// holds the channel's lock while calling it. p is shared and immutable.
	HandlePublication(p *protocol.Publication)
	// HandleDisconnect asks this node to close every connection of user (API
	// disconnect, cluster-wide).
	HandleDisconnect(user string)
}
