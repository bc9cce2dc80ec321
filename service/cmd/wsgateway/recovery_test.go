package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// pushOffsets reads n publication pushes for channel and returns their offsets.
func pushOffsets(t *testing.T, w *wsConn, channel string, n int) []uint64 {
	t.Helper()
	var out []uint64
	for len(out) < n {
		p := w.next()
		if p.Push != protocol.PushPub || p.Channel != channel {
			t.Fatalf("unexpected message %+v", p)
		}
		out = append(out, p.Offset)
	}
	return out
}

func publishN(t *testing.T, g *gw, channel string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if code, body := apiCall(t, g, "POST", "/api/v1/publish", "", fmt.Sprintf(`{"channel":%q,"data":{"n":%d}}`, channel, i)); code != 200 {
			t.Fatalf("publish: %d %v", code, body)
		}
	}
}

// pubOffsets lists the offsets of a result's publications.
func pubOffsets(ps protocol.Publications) []uint64 {
	var out []uint64
	for _, p := range ps {
		out = append(out, p.Offset)
	}
	return out
}

// subscribe sends cmd as a subscribe command and returns its result.
func (w *wsConn) subscribe(cmd protocol.Command) protocol.SubscribeResult {
	w.t.Helper()
	cmd.Op = protocol.OpSubscribe
	return resultOf[protocol.SubscribeResult](w.t, w.call(cmd))
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func equal(a, b []uint64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestRecovery(t *testing.T) {
	g := startNode(t, "--dev", "--history-size", "5")
	const ch = "chat:recover"
	first := connected(t, g, "")
	epoch := first.subscribe(protocol.Command{Channel: ch}).Epoch
	publishN(t, g, ch, 3)
	if got := pushOffsets(t, first, ch, 3); !equal(got, seq(1, 3)) {
		t.Fatalf("live offsets %v", got)
	}
	first.c.Close()
	publishN(t, g, ch, 3) // offsets 4..6, missed while away

	tests := []struct {
		name      string
		offset    uint64
		epoch     string
		recovered bool
		pubs      []uint64
	}{
		{"missed publications come back exactly", 3, epoch, true, seq(4, 6)},
		{"nothing missed", 6, epoch, true, nil},
		{"older than history", 0, epoch, false, nil},
		{"another epoch", 3, "not-the-epoch", false, nil},
		{"offset ahead of the stream", 9, epoch, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := connected(t, g, "")
			res := w.subscribe(protocol.Command{Channel: ch, Recover: true, Offset: tc.offset, Epoch: tc.epoch})
			if res.Recovered != tc.recovered || !equal(pubOffsets(res.Publications), tc.pubs) {
				t.Fatalf("recovered=%v pubs=%v, want %v %v", res.Recovered, pubOffsets(res.Publications), tc.recovered, tc.pubs)
			}
			if res.Offset != 6 || res.Epoch != epoch {
				t.Fatalf("position %v/%v, want 6/%v", res.Offset, res.Epoch, epoch)
			}
		})
	}
	// Live pushes continue right after the recovered ones.
	w := connected(t, g, "")
	w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch, Recover: true, Offset: 4, Epoch: epoch}))
	publishN(t, g, ch, 1)
	if got := pushOffsets(t, w, ch, 1); !equal(got, []uint64{7}) {
		t.Fatalf("after recovery got %v, want [7]", got)
	}
}

// TestRecoveryRacingPublishers subscribes with recover over and over while
// publishers keep publishing: every time, the reply's publications followed
// by the live pushes must be exactly K+1, K+2, ... with no gap or repeat.
func TestRecoveryRacingPublishers(t *testing.T) {
	g := startNode(t, "--dev", "--command-rate", "0")
	const ch = "race:one"
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		pub := connected(t, g, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				pub.result(pub.call(protocol.Command{Op: protocol.OpPublish, Channel: ch, Data: json.RawMessage(`1`)}))
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()

	w := connected(t, g, "")
	var last uint64
	epoch := ""
	for round := 0; round < 60; round++ {
		k := last - min(last, uint64(round%7)) // recover from a little behind
		res := w.subscribe(protocol.Command{Channel: ch, Recover: true, Offset: k, Epoch: epoch})
		got := pubOffsets(res.Publications)
		if round > 0 && !res.Recovered {
			t.Fatalf("round %d: not recovered from %d: %+v", round, k, res)
		}
		if round == 0 {
			got, k = nil, res.Offset
		}
		if !equal(got, seq(k+1, res.Offset)) {
			t.Fatalf("round %d: reply publications %v, want %d..%d", round, got, k+1, res.Offset)
		}
		epoch = res.Epoch
		live := pushOffsets(t, w, ch, 20)
		if want := seq(res.Offset+1, res.Offset+20); !equal(live, want) {
			t.Fatalf("round %d: live offsets %v, want %v", round, live, want)
		}
		last = live[len(live)-1]
		w.result(w.call(protocol.Command{Op: protocol.OpUnsubscribe, Channel: ch}))
		w.pending = nil // pushes that were already queued before the unsubscribe
	}
}
