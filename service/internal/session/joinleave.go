package session

import "github.com/wsgateway/wsgateway/service/internal/hub"

// PushToSubscribers queues line, a join or leave push (CONTRACT §7), to
// every live local subscription of channel but the one of client except
// (a connection is not told about itself). It never blocks, like a fan-out;
// a subscription still joining misses it: the pushes are ephemeral, and the
// channel's presence is the state to read.
func (m *Manager) PushToSubscribers(channel, except string, line []byte) {
	m.hub.Each(channel, func(s hub.Subscriber) {
		if sub, ok := s.(*subscription); ok && sub.s.id != except {
			sub.notice(line)
		}
	})
}

// notice sends a push without an offset to a live subscription.
func (sub *subscription) notice(line []byte) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.state == stateLive {
		sub.s.send(item{kind: kindReply, line: line})
	}
}
