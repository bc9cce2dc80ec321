package session

import (
	"testing"
	"time"
)

// BenchmarkInlineCommands measures the commands a connection runs on its
// reader (no hook involved): a frame of 16 pings and its 16 replies, over
// net.Pipe, client side included. It is the path that hooks must not slow:
// compare it across commits (allocs/op above all).
func BenchmarkInlineCommands(b *testing.B) {
	m := newTestManager(Config{Dev: true, PingInterval: time.Hour}, nil)
	p := serve(b, m, peerOptions{})
	p.send(b, connectCmd(1, ""))
	<-p.events
	lines := make([]string, 16)
	for i := range lines {
		lines[i] = pingCmd(i + 2)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p.send(b, lines...)
		for range lines {
			<-p.events
		}
	}
}
