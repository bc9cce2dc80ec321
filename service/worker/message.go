package worker

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/wsgateway/wsgateway/service/streams"
)

// Message is one inbox message or event, as a Handler gets it. It is the
// handler's alone; Reply and Publish may be called from it any number of times.
type Message struct {
	ID        string          // public message id: <topic>/<partition>/<entry id>
	Topic     string          // the topic, or streams.Events
	Partition int             // the partition it came from
	EntryID   string          // the entry id in the partition stream
	User      string          // the sender's user (events: the subject's user, if any)
	Client    string          // the sender's client id
	Node      string          // the gateway node the sender was on
	Data      json.RawMessage // the data the client sent (inbox)
	Key       string          // the sender's idempotency key, may be empty
	Time      time.Time       // when it was queued
	Attempt   int             // 1 on the first run, 2 on the first retry, ...
	Fields    map[string]string

	api *API
}

// Event is the lifecycle event view of a message from streams.Events.
type Event struct {
	Type    string // connection.opened, user.online, channel.vacated, ...
	Subject string // user:<u> | channel:<ch> | client:<id>
	Seq     int64  // per subject, increasing
	User    string
	Client  string
	Channel string
	Node    string
	Code    string // connection.closed: the close code, or "node_lost"
	Time    time.Time
}

func newMessage(part streams.Part, e Entry, attempt int, api *API) *Message {
	f := e.Fields
	id := f[streams.FieldID]
	if id == "" {
		id = streams.FormatID(part.Group, part.N, e.ID)
	}
	ms, _ := strconv.ParseInt(f[streams.FieldTimeMS], 10, 64)
	m := &Message{
		ID: id, Topic: part.Group, Partition: part.N, EntryID: e.ID,
		User: f[streams.FieldUser], Client: f[streams.FieldClient], Node: f[streams.FieldNode],
		Key: f[streams.FieldKey], Time: time.UnixMilli(ms), Attempt: attempt, Fields: f, api: api,
	}
	if d, ok := f[streams.FieldData]; ok {
		m.Data = json.RawMessage(d)
	}
	return m
}

// Event returns the event fields of a message from streams.Events.
func (m *Message) Event() Event {
	seq, _ := strconv.ParseInt(m.Fields[streams.FieldSeq], 10, 64)
	return Event{
		Type: m.Fields[streams.FieldType], Subject: m.Fields[streams.FieldSubject], Seq: seq,
		User: m.User, Client: m.Client, Channel: m.Fields[streams.FieldChannel], Node: m.Node,
		Code: m.Fields[streams.FieldCode], Time: m.Time,
	}
}

// Reply answers the sender with data (marshalled to JSON): a reply push on
// whichever node the sender is connected to. ErrSenderGone when it is not.
func (m *Message) Reply(ctx context.Context, data any) error {
	return m.api.Reply(ctx, m.ID, data)
}

// ReplyError answers the sender with an error.
func (m *Message) ReplyError(ctx context.Context, code, message string) error {
	return m.api.ReplyError(ctx, m.ID, code, message)
}

// Publish publishes data to channel with an idempotency key derived from
// the message id and the channel, so a redelivered message publishes once.
func (m *Message) Publish(ctx context.Context, channel string, data any) error {
	return m.PublishKeyed(ctx, channel, "", data)
}

// PublishKeyed is Publish for a handler that publishes to one channel more
// than once: each distinct suffix is its own publication.
func (m *Message) PublishKeyed(ctx context.Context, channel, suffix string, data any) error {
	return m.api.Publish(ctx, channel, data, PublishKey(m.ID, channel, suffix))
}

// PublishKey is the idempotency key Publish uses: "wkr:" and the base64 of
// SHA-256 over id, channel and suffix (so it fits the 128-byte limit
// whatever their length).
func PublishKey(id, channel, suffix string) string {
	h := sha256.Sum256([]byte(id + "\x00" + channel + "\x00" + suffix))
	return "wkr:" + base64.RawURLEncoding.EncodeToString(h[:])
}
