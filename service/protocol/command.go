package protocol

import (
	"bytes"
	"encoding/json"
)

// Ops a client may send.
const (
	OpConnect     = "connect"
	OpSubscribe   = "subscribe"
	OpUnsubscribe = "unsubscribe"
	OpPublish     = "publish"
	OpPresence    = "presence"
	OpHistory     = "history"
	OpPing        = "ping"
	OpRefresh     = "refresh"
	// OpRPC asks the backend's rpc hook a question (CONTRACT §6).
	OpRPC = "rpc"
)

// Ops lists every op, for metrics; OpInvalid labels commands that did not decode.
var Ops = []string{OpConnect, OpSubscribe, OpUnsubscribe, OpPublish, OpPresence, OpHistory, OpPing, OpRefresh, OpRPC, OpSend, OpInvalid}

// OpInvalid is the metrics label of a command that did not decode.
const OpInvalid = "invalid"

// Command is one client command. Fields an op does not use are ignored;
// unknown JSON fields are ignored too, so clients may be newer than servers.
type Command struct {
	ID             uint64          `json:"id"`
	Op             string          `json:"op"`
	Token          string          `json:"token,omitempty"`
	Channel        string          `json:"channel,omitempty"`
	Topic          string          `json:"topic,omitempty"` // send: the inbox topic
	Method         string          `json:"method,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	Recover        bool            `json:"recover,omitempty"`
	Offset         uint64          `json:"offset,omitempty"`
	Epoch          string          `json:"epoch,omitempty"`
	Since          *uint64         `json:"since,omitempty"`
	Limit          int             `json:"limit,omitempty"`
}

// MaxIdempotencyKeyLen bounds idempotency keys so they cannot bloat history.
const MaxIdempotencyKeyLen = 128

// Lines calls fn for each non-blank line of a frame, in order. A frame holds
// one or more JSON objects separated by '\n'; a trailing '\r' is tolerated.
func Lines(frame []byte, fn func(line []byte)) {
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			fn(line)
		}
	}
}

// DecodeCommand parses (strictly: see UnmarshalStrict) and validates one
// command line, and compacts a publish's data. On failure it returns a
// bad_request *Error, and the command as far as it was read, so the reply
// can echo the id when the id itself was readable.
func DecodeCommand(line []byte) (Command, *Error) {
	var c Command
	if err := UnmarshalStrict(line, &c); err != nil {
		return Command{ID: idOf(line)}, BadJSON(err)
	}
	if c.ID == 0 {
		return c, Errorf(CodeBadRequest, "id must be a positive integer")
	}
	if len(c.Data) > 0 {
		// Valid by now, so compacting cannot fail; it reuses Data's bytes.
		c.Data, _ = CompactData(c.Data)
	}
	return c, c.validate()
}

func (c *Command) validate() *Error {
	switch c.Op {
	case OpConnect, OpPing:
		return nil
	case OpRefresh:
		if c.Token == "" {
			return Errorf(CodeBadRequest, "refresh needs a token")
		}
		return nil
	case OpSubscribe, OpUnsubscribe:
		return c.validChannel()
	case OpHistory, OpPresence:
		if c.Limit < 0 {
			return Errorf(CodeBadRequest, "limit must not be negative")
		}
		return c.validChannel()
	case OpRPC:
		// A method is named like a channel: its namespace (before the
		// first ':') picks the backend, and it travels in logs and metrics.
		if !ValidChannel(c.Method) {
			return Errorf(CodeBadRequest, "invalid method name %q", truncate(c.Method, 64))
		}
		return nil
	case OpPublish:
		if len(c.Data) == 0 {
			return Errorf(CodeBadRequest, "publish needs data")
		}
		if len(c.IdempotencyKey) > MaxIdempotencyKeyLen {
			return Errorf(CodeBadRequest, "idempotency_key is longer than %d bytes", MaxIdempotencyKeyLen)
		}
		return c.validChannel()
	case OpSend:
		return c.validSend()
	case "":
		return Errorf(CodeBadRequest, "op is missing")
	default:
		return Errorf(CodeBadRequest, "unknown op %q", truncate(c.Op, 32))
	}
}

func (c *Command) validChannel() *Error {
	if !ValidChannel(c.Channel) {
		return Errorf(CodeBadRequest, "invalid channel name %q", truncate(c.Channel, 64))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
