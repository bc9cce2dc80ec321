package broker

import (
	"context"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Slot migration in Cluster mode. When a slot moves to another master, the
// old master ends every shard subscription in it with an SUNSUBSCRIBE of
// its own; an SSUBSCRIBE or SUNSUBSCRIBE sent to it afterwards is answered
// "MOVED <slot> <new master>" (Redis 7.0). The node follows: dropped asks
// the old master again to learn where the slot went, slotMoved records the
// answer, and reroute, run by checkPositions, moves the slot's channels to
// the new master's connection. The SSUBSCRIBE confirmation there triggers a
// position check, which fills what was published during the move from the
// stream, in order and once.

// dropped handles a sharded unsubscribe that Redis sent on sh. For a
// channel that the node still needs on sh, and whose subscription Redis had
// confirmed, it cannot answer an SUNSUBSCRIBE of ours: that channel would
// be gone from chans, or, subscribed again since, not confirmed yet (its
// SSUBSCRIBE was queued after the SUNSUBSCRIBE on the same connection). So
// the master let the channel go, as it does when its slot moves. Asking it
// again makes it say where the slot went (MOVED, see slotMoved), or confirm
// if it still holds the slot after all.
func (s *subscriptions) dropped(sh *psConn, ch string) {
	if !sh.sharded {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.chans[ch]; cs != nil && cs.conn == sh && cs.confirmed {
		sh.enqueue(subOp{name: pubsubName(ch)})
	}
}

// slotMoved records Redis's MOVED answer on sh to an SSUBSCRIBE or
// SUNSUBSCRIBE (after dropped, or for a channel routed by a stale slot map,
// or resubscribed after a reconnect) and asks checkPositions to reroute now.
// It also has go-redis reload its slot map in the background, so that
// channels subscribed from now on go to the right master at once.
//
// A MOVED naming sh's own master means sh is not attached to it: go-redis
// reconnects a connection by the slot of one of its channels, or to a
// random node when it has none left, as a master's connection does once its
// last channel is gone. No channel can be routed through such a connection,
// so reroute replaces it.
func (s *subscriptions) slotMoved(sh *psConn, slot int, addr string) {
	s.cluster.ReloadState(s.ctx)
	s.mu.Lock()
	if addr == sh.addr {
		s.misplaced[sh] = true
	} else {
		s.movedSlots[slot] = addr
	}
	s.mu.Unlock()
	select {
	case s.moved <- struct{}{}:
	default:
	}
}

// replaceMisplaced closes the misplaced connections and subscribes their
// channels again on a new connection to their master, created with the
// first of them, which go-redis attaches to that channel's master. Callers
// hold mu.
func (s *subscriptions) replaceMisplaced() {
	for sh := range s.misplaced {
		delete(s.misplaced, sh)
		if s.conns[sh.addr] != sh {
			continue // replaced already
		}
		delete(s.conns, sh.addr)
		sh.close()
		n := 0
		for ch, cs := range s.chans {
			if cs.conn == sh {
				cs.conn = s.subscribeAt(sh.addr, ch)
				n++
			}
		}
		s.log.Warn("redis pub/sub connection attached to the wrong master; replaced", "master", sh.addr, "channels", n)
	}
}

// reroute moves the channels of the slots in movedSlots to the master Redis
// named, and has the connection each leaves forget it: go-redis remembers
// the channels it subscribed on a connection and subscribes them all again
// when it reconnects, routing the connection by one of them, so a channel
// left behind could take the connection to the wrong master.
//
// A master with no connection yet gets one where the reloaded slot map
// says. If the map still names the old master, the slot waits for the next
// periodic pass (tick), which asks the old master again instead: a new
// MOVED starts over, a confirmation ends it (the channel was where it
// belongs, the MOVED address spelt otherwise than the map's). Meanwhile the
// position checks deliver the channel's publications.
func (s *subscriptions) reroute(ctx context.Context, tick bool) {
	s.mu.Lock()
	s.replaceMisplaced()
	moved := s.movedSlots
	s.movedSlots = map[int]string{}
	reload := false
	for _, addr := range moved {
		reload = reload || s.conns[addr] == nil
	}
	s.mu.Unlock()
	if len(moved) == 0 {
		return
	}
	if reload {
		s.reloadSlots(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for ch, cs := range s.chans {
		slot := slotOf(pubsubName(ch))
		addr, ok := moved[slot]
		if !ok || cs.conn == nil || cs.conn.addr == addr {
			continue // not moved, being routed, or already there
		}
		key := addr
		if s.conns[key] == nil { // a new master, or its address spelt otherwise
			c, err := s.cluster.MasterForKey(ctx, pubsubName(ch))
			if err != nil || c.Options().Addr == cs.conn.addr {
				if tick {
					cs.conn.enqueue(subOp{name: pubsubName(ch)})
				} else {
					s.movedSlots[slot] = addr
				}
				continue
			}
			key = c.Options().Addr
		}
		cs.conn.enqueue(subOp{name: pubsubName(ch), unsub: true})
		cs.conn = s.subscribeAt(key, ch)
		n++
	}
	if n > 0 {
		s.log.Info("redis cluster slots moved; their channels follow", "channels", n)
	}
}

// reloadSlots refreshes go-redis's slot map before it returns:
// ClusterClient.ReloadState only schedules a reload, while ForEachMaster
// reloads first (and keeps the old map if that fails, which reroute then
// sees as a map still behind).
func (s *subscriptions) reloadSlots(ctx context.Context) {
	_ = s.guard.do(ctx, "subscribe", func(ctx context.Context) error {
		return s.cluster.ForEachMaster(ctx, func(context.Context, *redis.Client) error { return nil })
	})
}

// movedTo parses Cluster's "MOVED <slot> <addr>" answer.
func movedTo(err error) (slot int, addr string, ok bool) {
	addr, ok = redis.IsMovedError(err)
	if !ok {
		return 0, "", false
	}
	f := strings.Fields(err.Error())
	if len(f) != 3 {
		return 0, "", false
	}
	slot, perr := strconv.Atoi(f[1])
	return slot, addr, perr == nil
}

// slotOf is Redis Cluster's hash slot of key: the CRC16 of its hash tag
// (what is between its first '{' and the next '}', if not empty) or else of
// the whole key, modulo 16384. go-redis has this function but keeps it in an
// internal package, and asking Redis (CLUSTER KEYSLOT) for every subscribed
// channel on each MOVED would cost a round trip per channel; TestSlotOf
// checks it against Redis's answers.
func slotOf(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) & 16383)
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), which
// Redis Cluster hashes keys with.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
