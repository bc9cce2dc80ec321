package client

// track runs on the event goroutine for every publication before delivery.
// It drops one whose channel is not subscribed and one already delivered
// (offset not above the last in the same epoch), and records the position of
// the rest. A gap or an epoch change is the server's to prevent or announce,
// so it is logged and the publication delivered.
func (c *Client) track(p *Publication) bool {
	c.mu.Lock()
	s := c.subs[p.Channel]
	if s == nil {
		c.mu.Unlock()
		return false
	}
	last, had := s.pos, s.hasPos
	fresh := !had || p.Epoch != last.Epoch || p.Offset > last.Offset
	if fresh {
		s.pos, s.hasPos = Position{Offset: p.Offset, Epoch: p.Epoch}, true
	}
	c.mu.Unlock()
	switch {
	case !fresh:
		c.log.Debug("duplicate publication dropped", "channel", p.Channel, "offset", p.Offset, "last", last.Offset)
	case had && p.Epoch != last.Epoch:
		c.log.Warn("channel epoch changed", "channel", p.Channel, "epoch", p.Epoch, "last_epoch", last.Epoch)
	case had && p.Offset > last.Offset+1:
		c.log.Warn("publication gap", "channel", p.Channel, "offset", p.Offset, "last", last.Offset)
	}
	return fresh
}

// finishSubscribe runs on the event goroutine for an accepted subscribe:
// the recovered publications first, then the channel's position, then
// OnSubscribed and, if recovery failed, OnRecoveryFailed.
func (c *Client) finishSubscribe(d *subscribeDone) {
	if !c.isCurrent(d) {
		return // unsubscribed meanwhile
	}
	res := &d.result
	for _, p := range publications(res.Publications) {
		if p.Channel == "" {
			p.Channel = d.channel
		}
		if c.track(&p) && c.opts.OnPublication != nil {
			c.opts.OnPublication(p)
		}
	}
	failed := d.recovering && !res.Recovered
	at := Position{Offset: res.Offset, Epoch: res.Epoch}
	c.mu.Lock()
	if s := d.state; failed || !s.hasPos || s.pos.Epoch != at.Epoch || s.pos.Offset < at.Offset {
		s.pos, s.hasPos = at, true
	}
	c.mu.Unlock()
	if c.opts.OnSubscribed != nil {
		c.opts.OnSubscribed(SubscribedEvent{
			Channel: d.channel, Recovered: res.Recovered, WasRecovering: d.recovering,
			Offset: res.Offset, Epoch: res.Epoch, Data: res.Data,
		})
	}
	if failed {
		c.log.Warn("recovery failed", "channel", d.channel, "epoch", res.Epoch)
		if c.opts.OnRecoveryFailed != nil {
			c.opts.OnRecoveryFailed(d.channel)
		}
	}
}

func (c *Client) isCurrent(d *subscribeDone) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs[d.channel] == d.state
}
