package main

import (
	"testing"
	"time"
)

// TestStalledWriteCloses4008: a subscriber that stops reading while big
// pushes are being written to it, with a queue large enough never to
// overflow, is a slow consumer once one write has waited 10 s: it is closed
// with 4008 and counted as one (not as a lost connection, 1006), and when
// it resumes reading within the close wait it gets the rest of the write in
// flight and then the 4008 close frame.
func TestStalledWriteCloses4008(t *testing.T) {
	slowUnderShort(t, "for the write stall deadline")
	g := startNode(t, "--dev", "--send-queue-bytes", "67108864")
	slow := dialSmallBuffer(t, g)
	slow.result(slow.call(map[string]any{"op": "connect"}))
	slow.result(slow.call(map[string]any{"op": "subscribe", "channel": "stall:b"}))
	publishBig(t, g, "stall:b", 16, 900<<10) // 14 MB: more than the socket buffers hold

	within(t, 20*time.Second, func() bool {
		return metric(t, g, "slow_consumer_disconnects_total") == 1
	}, func() string { return "the stalled subscriber was not counted as a slow consumer" })
	if code := slow.closed(10 * time.Second); code != 4008 {
		t.Fatalf("closed with %d (1006: no close frame), want 4008", code)
	}
	wantMetrics(t, g, map[string]float64{"disconnects_total code=4008": 1})
	wantMetrics(t, g, map[string]float64{"disconnects_total code=1006": 0})
}
