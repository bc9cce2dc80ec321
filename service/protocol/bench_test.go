package protocol

import "testing"

// benchPublish is a typical publish command of about 100 bytes.
var benchPublish = []byte(`{"id":42,"op":"publish","channel":"chat:lobby","data":{"text":"hello, world"},"idempotency_key":"k-1"}`)

func BenchmarkDecodeCommand(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPublish)))
	for b.Loop() {
		if _, err := DecodeCommand(benchPublish); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendPush encodes into a reused buffer, as NewDelivery does into
// a buffer sized for the push: it should not allocate.
func BenchmarkAppendPush(b *testing.B) {
	p := &Publication{Channel: "chat:lobby", Offset: 123456, Epoch: "e1f3a9", Data: []byte(`{"text":"hello, world","n":12345}`),
		User: "alice", Time: 1}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendPush(dst[:0], p)
	}
	b.SetBytes(int64(len(dst)))
}
