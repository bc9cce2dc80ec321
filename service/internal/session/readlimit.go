package session

import (
	"compress/flate"
	"errors"
	"io"
	"strings"
)

// readLimited appends what r yields to dst, never letting dst grow beyond
// limit+1 bytes; tooBig reports that r had more than limit. A bytes.Buffer
// or io.ReadAll would double their buffer past the limit first.
func readLimited(dst []byte, r io.Reader, limit int64) (out []byte, tooBig bool, err error) {
	most := int(min(limit+1, int64(^uint(0)>>1)))
	for {
		if len(dst) == cap(dst) {
			c := min(max(2*cap(dst), 512), most)
			if c <= cap(dst) {
				return dst, true, nil
			}
			dst = append(make([]byte, 0, c), dst...)
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		switch {
		case int64(len(dst)) > limit:
			return dst, true, nil
		case err == io.EOF:
			return dst, false, nil
		case err != nil:
			return dst, false, err
		}
	}
}

// badDeflate reports whether err says a compressed message does not
// inflate: corrupt data, or a deflate stream that ends early (gorilla's
// frame reader never returns a bare io.ErrUnexpectedEOF; a lost connection
// is a CloseError 1006).
func badDeflate(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.As(err, &corrupt) || errors.Is(err, io.ErrUnexpectedEOF)
}

// isProtocolError reports whether gorilla failed the connection for a
// framing error, for which it has already sent close 1002 ("websocket: "
// followed by what was wrong, such as "RSV2 set" or "bad opcode 3").
func isProtocolError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"RSV", "bad opcode", "FIN not set", "len > 125", "bad MASK", "continuation after FIN", "data before FIN", "bad close code", "invalid utf8 payload in close frame"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
