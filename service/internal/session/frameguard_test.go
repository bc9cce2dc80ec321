package session

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// frame builds a client frame: first header byte, then a masked length
// (7-bit, 16-bit or 64-bit form by size), a mask key and the payload.
func frame(first byte, payload []byte) []byte {
	f := []byte{first}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(append(f, 1, 2, 3, 4), payload...)
}

// pipeConn is a net.Conn whose reads come from r in chunks of at most step
// bytes, so that headers and payloads are split across reads.
type pipeConn struct {
	net.Conn
	r    io.Reader
	step int
}

func (p *pipeConn) Read(b []byte) (int, error) { return p.r.Read(b[:min(len(b), p.step)]) }

// TestGuardFrames: frames pass through untouched, whatever the read sizes,
// until one sets RSV1 on a control or continuation frame; everything
// before that frame is delivered, then every read fails.
func TestGuardFrames(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 70000) // 64-bit length form
	mid := bytes.Repeat([]byte("y"), 300)   // 16-bit length form
	good := bytes.Join([][]byte{
		frame(0xc1, []byte("deflated")), // FIN+RSV1 text: a compressed message
		frame(0x89, []byte("ping")),     // FIN ping
		frame(0x01, mid),                // text, not final
		frame(0x80, big),                // FIN continuation
		frame(0x8a, nil),                // FIN pong, empty
	}, nil)
	for _, tc := range []struct {
		name      string
		more, bad []byte // appended to good: more is delivered, bad is refused
	}{
		{"valid frames", nil, nil},
		{"RSV1 on a ping", nil, frame(0xc9, []byte("hi"))},
		{"RSV1 on a close", nil, frame(0xc8, []byte{3, 232})},
		{"RSV1 on a continuation", frame(0x01, []byte("a")), frame(0xc0, []byte("b"))},
	} {
		want := append(append([]byte(nil), good...), tc.more...)
		stream := append(append([]byte(nil), want...), tc.bad...)
		for _, step := range []int{1, 3, 7, 1000, 1 << 20} {
			g := GuardFrames(&pipeConn{r: bytes.NewReader(stream), step: step}, nil)
			got, err := io.ReadAll(g)
			if tc.bad == nil && err != nil || tc.bad != nil && !errors.Is(err, ErrReservedBit) {
				t.Fatalf("%s, reads of %d: error %v", tc.name, step, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, reads of %d: delivered %d bytes, want %d", tc.name, step, len(got), len(want))
			}
		}
	}
}

// TestGuardFramesReadsBufferedBytesFirst: bytes net/http had buffered
// before the hijack are checked and delivered before the socket's.
func TestGuardFramesReadsBufferedBytesFirst(t *testing.T) {
	f := frame(0x89, []byte("hi"))
	g := GuardFrames(&pipeConn{r: bytes.NewReader(frame(0xc9, nil)), step: 100}, f)
	got, err := io.ReadAll(g)
	if !errors.Is(err, ErrReservedBit) {
		t.Fatalf("error %v, want ErrReservedBit from the socket's RSV1 ping", err)
	}
	if !bytes.Equal(got, f) {
		t.Fatalf("delivered %q, want the buffered %q", got, f)
	}
}

// TestReadLimited: a message is read whole up to the limit; one byte more
// is reported without the buffer ever growing past limit+1.
func TestReadLimited(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		limit  int64
		tooBig bool
	}{
		{"empty", 0, 100, false},
		{"under", 99, 100, false},
		{"at the limit", 100, 100, false},
		{"one over", 101, 100, true},
		{"far over", 10 << 20, 64 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := bytes.Repeat([]byte("a"), tc.size)
			got, tooBig, err := readLimited(nil, bytes.NewReader(msg), tc.limit)
			if err != nil || tooBig != tc.tooBig {
				t.Fatalf("tooBig %v, err %v; want %v, nil", tooBig, err, tc.tooBig)
			}
			if int64(cap(got)) > tc.limit+1 {
				t.Fatalf("buffer grew to %d, want at most %d", cap(got), tc.limit+1)
			}
			if !tooBig && !bytes.Equal(got, msg) {
				t.Fatalf("read %d bytes, want the %d sent", len(got), len(msg))
			}
		})
	}
}
