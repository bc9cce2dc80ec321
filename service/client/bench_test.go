package client_test

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/wsgateway/wsgateway/service/client"
)

// BenchmarkReceive measures the client's whole receive path per publication
// (read, split, decode, queue, dedup, callback) with frames of 16
// publications, as the server batches them under load. The fake server
// writing the frames runs in the same process and is part of the cost.
// "consumer" adds what a real application does with each publication:
// decode its data into a struct of its own.
func BenchmarkReceive(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchReceive(b, func(client.Publication) {}) })
	b.Run("consumer", func(b *testing.B) {
		benchReceive(b, func(p client.Publication) {
			var m chatMessage
			if err := json.Unmarshal(p.Data, &m); err != nil || m.Seq == 0 {
				b.Errorf("decode %s: %v", p.Data, err)
			}
		})
	})
}

// chatMessage is the data of the benchmark's publications.
type chatMessage struct {
	Text string `json:"text"`
	Seq  uint64 `json:"seq"`
}

func benchReceive(b *testing.B, consume func(client.Publication)) {
	srv := newFakeServer(b, nil)
	var got atomic.Int64
	all := make(chan struct{})
	var target atomic.Int64
	c := client.New(client.Options{
		URL: srv.url,
		OnPublication: func(p client.Publication) {
			consume(p)
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
