package protocol

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// IdempotencyWindow is how long an idempotency key is remembered per channel.
const IdempotencyWindow = 5 * time.Minute

// AppendPush appends the publication push line for p. It is the per-message
// hot path: called once per publication per node, whatever the number of
// subscribers, and it allocates nothing when dst has room.
func AppendPush(dst []byte, p *Publication) []byte {
	dst = append(dst, `{"push":"pub",`...)
	return appendPubFields(dst, p)
}

// AppendPublication appends p as an element of a result's publications list.
func AppendPublication(dst []byte, p *Publication) []byte {
	dst = append(dst, '{')
	return appendPubFields(dst, p)
}

func appendPubFields(dst []byte, p *Publication) []byte {
	dst = append(dst, `"channel":`...)
	dst = AppendString(dst, p.Channel)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendUint(dst, p.Offset, 10)
	dst = append(dst, `,"epoch":`...)
	dst = AppendString(dst, p.Epoch)
	dst = append(dst, `,"data":`...)
	dst = append(dst, p.Data...)
	if p.User != "" {
		dst = append(dst, `,"user":`...)
		dst = AppendString(dst, p.User)
	}
	return append(dst, '}')
}

// AppendUnsub appends a server-side unsubscribe push.
func AppendUnsub(dst []byte, channel, reason string) []byte {
	dst = append(dst, `{"push":"unsub","channel":`...)
	dst = AppendString(dst, channel)
	dst = append(dst, `,"reason":`...)
	dst = AppendString(dst, reason)
	return append(dst, '}')
}

// AppendResult appends a successful reply whose result is already encoded.
func AppendResult(dst []byte, id uint64, result []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"result":`...)
	dst = append(dst, result...)
	return append(dst, '}')
}

// AppendReply appends a successful reply, marshalling result with
// encoding/json. Result types here marshal without error by construction.
func AppendReply(dst []byte, id uint64, result any) []byte {
	b, err := MarshalResult(result)
	if err != nil {
		return AppendError(dst, id, &Error{Code: CodeInternal, Message: "encode result"})
	}
	return AppendResult(dst, id, b)
}

// AppendError appends an error reply; id 0 (unreadable) is left out.
func AppendError(dst []byte, id uint64, e *Error) []byte {
	dst = append(dst, '{')
	if id != 0 {
		dst = append(dst, `"id":`...)
		dst = strconv.AppendUint(dst, id, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"error":{"code":`...)
	dst = AppendString(dst, e.Code)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	return append(dst, "}}"...)
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so the output is always valid JSON and valid UTF-8.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hex = "0123456789abcdef"
