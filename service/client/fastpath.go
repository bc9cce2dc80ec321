package client

import (
	"math"
	"unicode/utf8"
)

// The server writes every publication push in exactly one shape: fixed key
// order, no spaces, data as compact JSON, and the user key only when there is
// a publisher:
//
//	{"push":"pub","channel":"C","offset":N,"epoch":"E","data":D,"user":"U"}
//
// decodePub parses that shape with a single forward pass and no reflection:
// it is the hot path of every consumer, and saves about two thirds of the
// client's cost per publication (docs/benchmarks.md, BenchmarkReceive).
// It must accept a line only when encoding/json would decode it to the same
// values (FuzzDecodePush checks this). Anything else, including valid JSON in
// another shape, strings with escapes, or data nested deeper than maxDepth,
// returns ok == false and the caller falls back to encoding/json: an unusual
// line costs time, never correctness.

const pubPrefix = `{"push":"pub","channel":"`

// maxDepth bounds the data nesting the fast path follows; deeper data takes
// the encoding/json path (which has its own limit of 10000).
const maxDepth = 32

// rawPub is a publication push as slices of the line it was decoded from.
type rawPub struct {
	channel, epoch, data, user []byte
	offset                     uint64
}

// decodePub decodes line if it is a publication push in the server's shape.
func decodePub(line []byte) (p rawPub, ok bool) {
	rest, ok := cutPrefix(line, pubPrefix)
	if ok {
		p.channel, rest, ok = cutPlainString(rest)
	}
	if ok {
		rest, ok = cutPrefix(rest, `,"offset":`)
	}
	if ok {
		p.offset, rest, ok = cutUint(rest)
	}
	if ok {
		rest, ok = cutPrefix(rest, `,"epoch":"`)
	}
	if ok {
		p.epoch, rest, ok = cutPlainString(rest)
	}
	if ok {
		rest, ok = cutPrefix(rest, `,"data":`)
	}
	if !ok {
		return rawPub{}, false
	}
	n, ok := skipValue(rest)
	if !ok {
		return rawPub{}, false
	}
	p.data, rest = rest[:n], rest[n:]
	if string(rest) == "}" {
		return p, true
	}
	if rest, ok = cutPrefix(rest, `,"user":"`); ok {
		p.user, rest, ok = cutPlainString(rest)
	}
	if !ok || string(rest) != "}" {
		return rawPub{}, false
	}
	return p, true
}

// cutPrefix is bytes.CutPrefix with a string prefix, without allocating.
func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return nil, false
	}
	return b[len(prefix):], true
}

// cutPlainString reads the body of a JSON string whose opening quote is
// already consumed, up to its closing quote. It accepts only bodies that
// encoding/json returns byte for byte: no escapes, no control bytes, and
// valid UTF-8 (encoding/json would replace invalid bytes with U+FFFD).
func cutPlainString(b []byte) (s, rest []byte, ok bool) {
	ascii := true
	for i, c := range b {
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(b[:i]) {
				return nil, nil, false
			}
			return b[:i], b[i+1:], true
		case c == '\\' || c < 0x20:
			return nil, nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, nil, false
}

// cutUint reads a JSON number that is a uint64 in canonical form: digits
// only, no leading zero, no overflow.
func cutUint(b []byte) (n uint64, rest []byte, ok bool) {
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, nil, false
		}
		n = n*10 + d
	}
	if i == 0 || (b[0] == '0' && i > 1) {
		return 0, nil, false
	}
	return n, b[i:], true
}
