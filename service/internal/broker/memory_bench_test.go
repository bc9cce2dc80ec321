package broker

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

func BenchmarkMemoryPublish(b *testing.B) {
	m := NewMemory(MemoryOptions{HistorySize: 1000, HistoryTTL: time.Minute}, nopHandler{})
	data := []byte(`{"text":"hello"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Publish(ctx, "chat:lobby", data, protocol.PublishOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryPublishParallel(b *testing.B) {
	m := NewMemory(MemoryOptions{HistorySize: 1000, HistoryTTL: time.Minute}, nopHandler{})
	data := []byte(`{"text":"hello"}`)
	channels := make([]string, 256)
	for i := range channels {
		channels[i] = "chat:" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for i := 0; pb.Next(); i++ {
			if _, err := m.Publish(ctx, channels[i%len(channels)], data, protocol.PublishOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

type nopHandler struct{}

func (nopHandler) HandlePublication(*protocol.Publication) {}
func (nopHandler) HandleDisconnect(string)                 {}
