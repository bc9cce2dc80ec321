package session

// Lifecycle is what a session reports for the lifecycle events (CONTRACT
// §7); *events.Emitter satisfies it. Its methods may wait while the node's
// events writer is behind (backpressure on connects and subscribes), never
// on the per-message path.
type Lifecycle interface {
	Opened(user, client string)
	Closed(user, client string, code int)
	Subscribed(user, client, channel string)
	Unsubscribed(user, client, channel string)
}

// The report helpers do nothing without --events (Config.Events nil).

func (s *Session) reportOpened() {
	if ev := s.mgr.cfg.Events; ev != nil {
		ev.Opened(s.claims.User, s.id)
	}
}

func (s *Session) reportClosed(code int) {
	if ev := s.mgr.cfg.Events; ev != nil {
		ev.Closed(s.claims.User, s.id, code)
	}
}

func (s *Session) reportSubscribed(channel string) {
	if ev := s.mgr.cfg.Events; ev != nil {
		ev.Subscribed(s.claims.User, s.id, channel)
	}
}

func (s *Session) reportUnsubscribed(channel string) {
	if ev := s.mgr.cfg.Events; ev != nil {
		ev.Unsubscribed(s.claims.User, s.id, channel)
	}
}
