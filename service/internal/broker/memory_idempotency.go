package broker

import (
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// idempotency remembers one channel's idempotency keys for
// protocol.IdempotencyWindow, at most idempotencyCap of them. It belongs to a
// stream and is guarded by the stream's mutex. Keys are pruned oldest first
// on every use, so memory stays bounded even when the sweeper is not running.
type idempotency struct {
	byKey map[string]keyEntry
	order []keyAt // in the order recorded, for pruning
}

type keyEntry struct {
	pos protocol.Position
	at  time.Time
}

type keyAt struct {
	key string
	at  time.Time
}

// lookup returns the position first published with key, if key is still
// remembered at now. The empty key is never remembered.
func (k *idempotency) lookup(key string, now time.Time) (protocol.Position, bool) {
	k.prune(now)
	if key == "" {
		return protocol.Position{}, false
	}
	e, ok := k.byKey[key]
	if !ok || now.Sub(e.at) >= protocol.IdempotencyWindow {
		return protocol.Position{}, false
	}
	return e.pos, true
}

// record remembers key as published at pos, at now, and forgets the oldest
// keys beyond max.
func (k *idempotency) record(key string, pos protocol.Position, now time.Time, max int) {
	if key == "" {
		return
	}
	if k.byKey == nil {
		k.byKey = make(map[string]keyEntry)
	}
	k.byKey[key] = keyEntry{pos: pos, at: now}
	k.order = append(k.order, keyAt{key: key, at: now})
	for len(k.byKey) > max && len(k.order) > 0 {
		k.forgetOldest()
	}
}

// forgetOldest drops the oldest entry of order, and its key unless the key
// was recorded again since.
func (k *idempotency) forgetOldest() {
	ka := k.order[0]
	if e, ok := k.byKey[ka.key]; ok && e.at.Equal(ka.at) {
		delete(k.byKey, ka.key)
	}
	k.order[0] = keyAt{}
	k.order = k.order[1:]
}

// prune forgets the keys recorded a window or more before now.
func (k *idempotency) prune(now time.Time) {
	i := 0
	for ; i < len(k.order); i++ {
		ka := k.order[i]
		if now.Sub(ka.at) < protocol.IdempotencyWindow {
			break
		}
		// A key recorded again later has a newer entry: keep that one.
		if e, ok := k.byKey[ka.key]; ok && e.at.Equal(ka.at) {
			delete(k.byKey, ka.key)
		}
	}
	if i == len(k.order) {
		// Every entry in byKey has a later or equal entry in order, so
		// byKey is empty too: release both.
		k.byKey, k.order = nil, nil
		return
	}
	clear(k.order[:i])
	k.order = k.order[i:]
}
