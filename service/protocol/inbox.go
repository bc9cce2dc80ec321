package protocol

import (
	"encoding/json"
	"strconv"
)

// OpSend queues a message for the backend workers of a topic (CONTRACT §7).
const OpSend = "send"

// PushReply is a worker's answer to a message the client sent.
const PushReply = "reply"

// MaxTopicLen is the longest inbox topic name, in bytes.
const MaxTopicLen = 64

// EventsGroup is the stream group of the lifecycle events: no inbox topic
// may take its name (docs/streams.md).
const EventsGroup = "events"

// ValidTopic reports whether name may be an inbox topic: 1–64 bytes of
// [A-Za-z0-9_.-], not starting with '_' and not "events". The name becomes
// part of Redis keys and of every message id ("<topic>/<partition>/<entry>"),
// so it may hold neither '/' nor the braces of a hash tag.
func ValidTopic(name string) bool {
	if len(name) == 0 || len(name) > MaxTopicLen || name[0] == '_' || name == EventsGroup {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !topicByte(c) {
			return false
		}
	}
	return true
}

func topicByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// SendResult answers send: the message's id, and whether the idempotency
// key had been seen (then the id is the first message's and nothing new was
// queued).
type SendResult struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
}

// AppendSendReply appends the reply to a send command.
func AppendSendReply(dst []byte, id uint64, r SendResult) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"result":{"id":`...)
	dst = AppendString(dst, r.ID)
	dst = append(dst, `,"duplicate":`...)
	dst = strconv.AppendBool(dst, r.Duplicate)
	return append(dst, "}}"...)
}

// ReplyPush is a worker's answer to one sent message, as a client decodes
// it: exactly one of Data and Error is set. Its "id" is the message id
// (a string), unlike a command reply's numeric id, so clients decode it
// apart from Message.
type ReplyPush struct {
	Push  string          `json:"push"`
	ID    string          `json:"id"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *Error          `json:"error,omitempty"`
}

// ReplyPushPrefix starts every reply push the server writes, so a client
// can tell one from a command reply before decoding.
const ReplyPushPrefix = `{"push":"reply",`

// AppendReplyPush appends the reply push for message id: with e set, the
// error; else data (compact JSON; null when empty).
func AppendReplyPush(dst []byte, id string, data json.RawMessage, e *Error) []byte {
	dst = append(dst, ReplyPushPrefix...)
	dst = append(dst, `"id":`...)
	dst = AppendString(dst, id)
	if e != nil {
		dst = append(dst, `,"error":{"code":`...)
		dst = AppendString(dst, e.Code)
		dst = append(dst, `,"message":`...)
		dst = AppendString(dst, e.Message)
		return append(dst, "}}"...)
	}
	dst = append(dst, `,"data":`...)
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	dst = append(dst, data...)
	return append(dst, '}')
}

func (c *Command) validSend() *Error {
	if !ValidTopic(c.Topic) {
		return Errorf(CodeBadRequest, "invalid topic %q", truncate(c.Topic, 64))
	}
	if len(c.Data) == 0 {
		return Errorf(CodeBadRequest, "send needs data")
	}
	if len(c.IdempotencyKey) > MaxIdempotencyKeyLen {
		return Errorf(CodeBadRequest, "idempotency_key is longer than %d bytes", MaxIdempotencyKeyLen)
	}
	return nil
}

// InboxMessage is one send, as the session hands it to the inbox.
type InboxMessage struct {
	Topic  string
	User   string // the sender's user: the partition key
	Client string // the sender's connection, for the reply
	// Key is the sender's idempotency key; empty: none.
	Key string
	// Data is compact JSON.
	Data json.RawMessage
	// TraceParent is the producer span's W3C traceparent; empty: not traced.
	TraceParent string
}

// DeadLetter is one message that failed max_attempts times (or
// permanently), as GET /api/v1/inbox/dead lists it.
type DeadLetter struct {
	// DeadID is the entry's id in the topic's dead-letter stream: what
	// POST /api/v1/inbox/redrive takes.
	DeadID string `json:"dead_id"`
	// ID is the message id the sender got from send.
	ID        string          `json:"id"`
	Topic     string          `json:"topic"`
	User      string          `json:"user"`
	Client    string          `json:"client"`
	Node      string          `json:"node"`
	Data      json.RawMessage `json:"data"`
	Key       string          `json:"key,omitempty"`
	TimeMS    int64           `json:"time_ms"`
	Partition int             `json:"partition"`
	OrigID    string          `json:"orig_id"`
	Attempts  int             `json:"attempts"`
	Error     string          `json:"error"`
	DeadMS    int64           `json:"dead_ms"`
}

// Redriven is one dead letter put back into its partition by
// POST /api/v1/inbox/redrive: it keeps its message id (so a reply still
// reaches the sender) under a new stream entry.
type Redriven struct {
	DeadID  string `json:"dead_id"`
	ID      string `json:"id"`
	EntryID string `json:"entry_id"`
}
