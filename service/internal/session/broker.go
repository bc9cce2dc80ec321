package session

import (
	"context"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Broker is what a session needs of the cluster: offsets, history, presence
// and the node-level channel subscriptions that feed the hub. *broker.Memory
// and *broker.Redis satisfy it. Every method fails fast with an error wrapping
// protocol.ErrUnavailable when the broker's backing store is down.
type Broker interface {
	// Publish assigns the next offset on channel and delivers the publication
	// to every node subscribed to it, in offset order.
	Publish(ctx context.Context, channel string, data []byte, opts protocol.PublishOptions) (protocol.Position, error)
	// History reads a channel's position and the publications q selects.
	History(ctx context.Context, channel string, q protocol.HistoryQuery) (protocol.History, error)
	// Subscribe makes this node receive channel's publications; when it
	// returns nil, every publication after that moment reaches the node.
	// It is reference-counted: each successful Subscribe is paired with one
	// Unsubscribe, so sessions joining and leaving concurrently never race
	// a node-level unsubscribe past a subscribe.
	Subscribe(ctx context.Context, channel string) error
	// Unsubscribe releases one successful Subscribe.
	Unsubscribe(ctx context.Context, channel string) error
	// AddPresence and RemovePresence maintain channel presence.
	AddPresence(ctx context.Context, channel string, info protocol.ClientInfo) error
	RemovePresence(ctx context.Context, channel, client string) error
	// Presence lists the connections subscribed to channel, cluster-wide.
	Presence(ctx context.Context, channel string) ([]protocol.ClientInfo, error)
}
