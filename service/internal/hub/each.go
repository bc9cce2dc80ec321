package hub

// Each calls fn for every local subscriber of ch, with the channel's shard
// read-locked, as a fan-out does: fn must not block and must not call the
// hub. The join and leave pushes, which carry no offset, go out this way
// rather than as publications.
func (h *Hub) Each(ch string, fn func(Subscriber)) {
	sh := h.shard(ch)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if c := sh.channels[ch]; c != nil {
		for _, s := range c.subs {
			fn(s)
		}
	}
}
