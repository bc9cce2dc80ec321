package broker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// AddPresence records info.Client as present on channel, replacing an earlier
// record of the same client.
func (m *Memory) AddPresence(ctx context.Context, channel string, info protocol.ClientInfo) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add presence %s: %w", channel, err)
	}
	sh := m.shard(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	clients := sh.presence[channel]
	if clients == nil {
		clients = make(map[string]protocol.ClientInfo)
		sh.presence[channel] = clients
	}
	clients[info.Client] = info
	return nil
}

// RemovePresence forgets client on channel; an unknown client is not an error.
func (m *Memory) RemovePresence(ctx context.Context, channel, client string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remove presence %s: %w", channel, err)
	}
	sh := m.shard(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	clients := sh.presence[channel]
	delete(clients, client)
	if len(clients) == 0 {
		delete(sh.presence, channel)
	}
	return nil
}

// Presence lists the clients present on channel, sorted by client id; an
// empty channel gives an empty, non-nil slice.
func (m *Memory) Presence(ctx context.Context, channel string) ([]protocol.ClientInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("presence %s: %w", channel, err)
	}
	sh := m.shard(channel)
	sh.mu.Lock()
	clients := sh.presence[channel]
	list := make([]protocol.ClientInfo, 0, len(clients))
	for _, c := range clients {
		list = append(list, c)
	}
	sh.mu.Unlock()
	slices.SortFunc(list, func(a, b protocol.ClientInfo) int {
		return strings.Compare(a.Client, b.Client)
	})
	return list, nil
}
