package server

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipIdle is how long an address's limiter is kept after its last use; by
// then its bucket is full again, so forgetting it changes nothing.
const ipIdle = time.Minute

// ipLimiter applies the per-IP connect rate (burst twice the rate). It is
// safe for concurrent use; sweep forgets idle addresses so the map stays
// bounded by the number of recently active clients.
type ipLimiter struct {
	rate rate.Limit
	mu   sync.Mutex
	ips  map[netip.Addr]*ipEntry
}

type ipEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(perSecond float64) *ipLimiter {
	return &ipLimiter{rate: rate.Limit(perSecond), ips: make(map[netip.Addr]*ipEntry)}
}

func (l *ipLimiter) allow(ip netip.Addr) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.ips[ip]
	if e == nil {
		e = &ipEntry{lim: rate.NewLimiter(l.rate, max(1, int(2*float64(l.rate))))}
		l.ips[ip] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

func (l *ipLimiter) sweep(ctx context.Context) {
	t := time.NewTicker(ipIdle)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			l.mu.Lock()
			for ip, e := range l.ips {
				if now.Sub(e.seen) > ipIdle {
					delete(l.ips, ip)
				}
			}
			l.mu.Unlock()
		}
	}
}
