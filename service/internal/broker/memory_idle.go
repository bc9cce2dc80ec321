package broker

import (
	"sync"
	"time"
)

// idleList orders the channels that have had a publication by their last
// one, most recent first, so that beyond max the channel idle longest is
// found and evicted in O(1) per publish, never by a scan. It is shared by
// every shard of a Memory; mu guards the links of the streams on it and is
// held only for pointer moves: while holding it, a stream's mutex is only
// ever tried, never waited for, so it cannot deadlock with a publisher.
type idleList struct {
	mu         sync.Mutex
	head, tail *stream
	n          int
	max        int // 0: no cap
}

// idleStep is how exactly the list follows publications: a channel that is
// already on it moves to the front again only once idleStep has passed since
// its last move. A channel published to many times a second then takes the
// list's lock about once a second, not on every publish, and the order of
// the channels idle longest, the only ones eviction looks at, is unchanged.
const idleStep = time.Second

// evictTries bounds how many busy channels (their mutex held by a publisher,
// a reader or the sweeper) one publish steps over from the idle end; a
// busy channel is not idle, and the next publish tries again.
const evictTries = 8

// published moves s, just published at now and locked by the caller, to the
// front and evicts from the idle end while the list is over max. It returns
// the evicted streams, marked removed and unlinked; the caller takes them out
// of their shards once it holds no stream's mutex. s.listed and s.movedAt
// may be read without l.mu: they change only while s.mu is held too.
func (l *idleList) published(s *stream, now time.Time) []*stream {
	if s.listed && now.Sub(s.movedAt) < idleStep {
		return nil
	}
	s.movedAt = now
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.head != s {
		l.unlink(s)
		l.pushFront(s)
	}
	if l.max <= 0 || l.n <= l.max {
		return nil
	}
	var evicted []*stream
	v := l.tail
	for tries := 0; l.n > l.max && v != nil && v != s && tries < evictTries; tries++ {
		prev := v.prev
		if v.mu.TryLock() {
			v.removed = true
			l.unlink(v)
			v.mu.Unlock()
			evicted = append(evicted, v)
		}
		v = prev
	}
	return evicted
}

// remove takes s off the list, if it is on it. The caller holds s.mu.
func (l *idleList) remove(s *stream) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unlink(s)
}

// len is the number of channels on the list.
func (l *idleList) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *idleList) pushFront(s *stream) {
	s.prev, s.next, s.listed = nil, l.head, true
	if l.head != nil {
		l.head.prev = s
	}
	l.head = s
	if l.tail == nil {
		l.tail = s
	}
	l.n++
}

func (l *idleList) unlink(s *stream) {
	if !s.listed {
		return
	}
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		l.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		l.tail = s.prev
	}
	s.prev, s.next, s.listed = nil, nil, false
	l.n--
}
