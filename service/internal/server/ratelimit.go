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

// ipLimiter applies the per-IP connect rate (burst twice the rate) to
// buckets of addresses (see bucketOf). It is safe for concurrent use; sweep
// forgets idle buckets so the map stays bounded by the number of recently
// active clients.
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

// ipv6Bucket is the IPv6 prefix that shares one bucket. A single host or
// subscriber is routinely handed a whole /64 and may pick any address in
// it, so bucketing per address would let one client multiply its rate by
// 2^64.
const ipv6Bucket = 64

// bucketOf returns the key ip counts against: the address itself for IPv4
// (and IPv4-mapped IPv6), the first address of its /64 for IPv6.
func bucketOf(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if !ip.Is6() {
		return ip
	}
	p, _ := ip.WithZone("").Prefix(ipv6Bucket) // cannot fail: 64 bits fit an IPv6 address
	return p.Addr()
}

func (l *ipLimiter) allow(ip netip.Addr) bool {
	ip = bucketOf(ip)
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
