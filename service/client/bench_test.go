package client_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/wsgateway/wsgateway/service/client"
)

// BenchmarkReceive measures the client's whole receive path per publication
// (read, split, decode, queue, dedup, callback) with frames of 16
// publications, as the server batches them under load. The fake server
// writing the frames runs in the same process and is part of the cost.
func BenchmarkReceive(b *testing.B) {
	srv := newFakeServer(b, nil)
	var got atomic.Int64
	all := make(chan struct{})
	var target atomic.Int64
	c := client.New(client.Options{
		URL: srv.url,
		OnPublication: func(client.Publication) {
			if got.Add(1) == target.Load() {
				close(all)
			}
		},
	})
	_ = c.Subscribe(b.Context(), "chat:lobby")
	c.Start(b.Context())
	b.Cleanup(func() { _ = c.Close() })
	fc := srv.accept(b)
	fc.next(b) // connect
	fc.next(b) // subscribe
	const perFrame = 16
	frames := (b.N + perFrame - 1) / perFrame
	target.Store(int64(frames * perFrame))
	b.ReportAllocs()
	b.ResetTimer()
	var frame []byte
	for f := range frames {
		frame = appendPubFrame(frame[:0], uint64(f*perFrame), perFrame)
		fc.sendFrame(frame)
	}
	<-all
}

// appendPubFrame appends n publication pushes with the offsets after from.
func appendPubFrame(frame []byte, from uint64, n int) []byte {
	for i := range uint64(n) {
		if i > 0 {
			frame = append(frame, '\n')
		}
		frame = append(frame, `{"push":"pub","channel":"chat:lobby","offset":`...)
		frame = strconv.AppendUint(frame, from+i+1, 10)
		frame = append(frame, `,"epoch":"k3Jx9","data":{"text":"hello, world","seq":`...)
		frame = strconv.AppendUint(frame, from+i+1, 10)
		frame = append(frame, `},"user":"load-17"}`...)
	}
	return frame
}
