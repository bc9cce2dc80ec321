package session

import (
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// setExpiry arms (or disarms) the token expiry: at expiry the connection is
// closed with 4001 unless a refresh moved expiresAt forward in the meantime.
func (s *Session) setExpiry(at time.Time) {
	if at.IsZero() {
		s.expiresAt.Store(0)
		if s.expiryTimer != nil {
			s.expiryTimer.Stop()
		}
		return
	}
	s.expiresAt.Store(at.UnixNano())
	d := time.Until(at)
	if s.expiryTimer == nil {
		s.expiryTimer = time.AfterFunc(d, s.expire)
		return
	}
	s.expiryTimer.Reset(d)
}

func (s *Session) expire() {
	at := s.expiresAt.Load()
	if at != 0 && time.Now().UnixNano() >= at {
		s.Close(protocol.CloseTokenExpired)
	}
}

// schedulePing arms the next server ping. Each ping re-arms itself, so no
// goroutine waits between pings.
func (s *Session) schedulePing() {
	s.pingTimer.Store(time.AfterFunc(s.mgr.cfg.PingInterval, s.ping))
}

func (s *Session) ping() {
	if closing, _ := s.out.state(); closing {
		return
	}
	s.send(item{kind: kindPing})
	s.schedulePing()
}

func (s *Session) stopTimers() {
	if t := s.pingTimer.Load(); t != nil {
		t.Stop()
	}
	if s.expiryTimer != nil {
		s.expiryTimer.Stop()
	}
}
