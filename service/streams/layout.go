package streams

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Stream groups and consumer groups.
const (
	// Events is the reserved stream group of lifecycle events; no topic may
	// use the name.
	Events = "events"
	// GroupWorkers is the consumer group of workers: on every inbox topic and
	// on Events.
	GroupWorkers = "workers"
	// GroupWebhook is the consumer group of the gateway's webhook sender, on
	// Events only.
	GroupWebhook = "webhook"
)

// Durations of the layout. Workers in other languages must use the same
// values, so they are part of the layout rather than options.
const (
	// LeaseTTL is how long a partition lease lives without renewal.
	LeaseTTL = 10 * time.Second
	// LeaseRenew is the longest interval between renewals by the holder; it
	// must stay well below LeaseTTL so one slow round trip cannot lose it.
	LeaseRenew = 3 * time.Second
	// DedupTTL is how long an inbox idempotency key maps to its message id.
	DedupTTL = 5 * time.Minute
	// SenderTTL is how long a reply can still be routed to the sender.
	SenderTTL = time.Hour
	// Heartbeat is the interval of a worker's score in WorkersKey.
	Heartbeat = 5 * time.Second
	// DefaultPartitions is the gateway's default --inbox-partitions.
	DefaultPartitions = 16
	// DefaultMaxAttempts is how many failed handler runs move an entry to
	// the dead letters.
	DefaultMaxAttempts = 5
)

// MaxTopicLen is the longest topic name.
const MaxTopicLen = 64

// ValidTopic reports whether name may be an inbox topic: [A-Za-z0-9_.-]{1,64},
// not Events and not starting with "_" (reserved for the gateway).
func ValidTopic(name string) bool {
	if name == "" || len(name) > MaxTopicLen || name == Events || name[0] == '_' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// Partition is the partition of an entry with the given partition key (the
// sender's user for inbox topics, the event's subject for events):
// FNV-1a 32-bit of the key's UTF-8 bytes modulo partitions.
func Partition(key string, partitions int) int {
	if partitions <= 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(key)) // never fails
	return int(h.Sum32() % uint32(partitions))
}

// Part is one partition of a stream group. Its keys all carry the hash tag
// {s:<Group>:<N>}.
type Part struct {
	Group string // the stream group S: a topic or Events
	N     int    // the partition, 0 <= N < P
}

// prefix is "wsg:{s:S:N}:".
func (p Part) prefix() string {
	return "wsg:{s:" + p.Group + ":" + strconv.Itoa(p.N) + "}:"
}

// Key is wsg:{s:S:N}:<suffix>, for state kept beside the partition (the
// events' per-subject keys).
func (p Part) Key(suffix string) string { return p.prefix() + suffix }

// Stream is the partition's stream, wsg:{s:S:N}:q.
func (p Part) Stream() string { return p.prefix() + "q" }

// Lease is the partition's lease for a consumer group: value = the holder's
// consumer id, PX LeaseTTL.
func (p Part) Lease(consumerGroup string) string { return p.prefix() + "lease:" + consumerGroup }

// Dedup maps an inbox sender's idempotency key to the public message id.
func (p Part) Dedup(user, key string) string { return p.prefix() + "d:" + user + ":" + key }

// Attempts is the HASH entry id -> failed handler runs of a consumer group.
func (p Part) Attempts(consumerGroup string) string { return p.prefix() + "a:" + consumerGroup }

// Sender holds "<node>\t<client>" of an inbox entry's sender, for replies.
func (p Part) Sender(entryID string) string { return p.prefix() + "snd:" + entryID }

// MetaKey is the HASH of a stream group's settings (field MetaPartitions).
func MetaKey(group string) string { return "wsg:s:" + group + ":meta" }

// WorkersKey is the ZSET consumer id -> last heartbeat in ms of a group's workers.
func WorkersKey(group string) string { return "wsg:s:" + group + ":workers" }

// DeadKey is the dead-letter stream of a stream group's workers.
func DeadKey(group string) string { return "wsg:{s:" + group + ":dead}" }

// DeadHookKey is the dead-letter stream of the webhook sender (group
// GroupWebhook on Events).
const DeadHookKey = "wsg:{s:" + Events + ":deadhook}"

// DeadLetterKey is the dead-letter stream of a consumer group on a stream
// group: DeadHookKey for the webhook sender, DeadKey(group) otherwise.
func DeadLetterKey(group, consumerGroup string) string {
	if group == Events && consumerGroup == GroupWebhook {
		return DeadHookKey
	}
	return DeadKey(group)
}

// NodeConnsKey is the SET of a gateway node's connected client ids.
func NodeConnsKey(node string) string { return "wsg:node:" + node + ":conns" }

// NodeChannel is the Pub/Sub channel a gateway node listens on for replies.
func NodeChannel(node string) string { return "wsg:node:" + node }

// FormatID is the public message id "<S>/<p>/<entry id>".
func FormatID(group string, n int, entryID string) string {
	return group + "/" + strconv.Itoa(n) + "/" + entryID
}

// ParseID splits a public message id made by FormatID.
func ParseID(id string) (group string, n int, entryID string, err error) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		return "", 0, "", fmt.Errorf("message id %q: want <topic>/<partition>/<entry id>", id)
	}
	group, entryID = parts[0], parts[2]
	if group != Events && !ValidTopic(group) {
		return "", 0, "", fmt.Errorf("message id %q: bad topic", id)
	}
	n, err = strconv.Atoi(parts[1])
	if err != nil || n < 0 || parts[1] != strconv.Itoa(n) {
		return "", 0, "", fmt.Errorf("message id %q: bad partition", id)
	}
	if !validEntryID(entryID) {
		return "", 0, "", fmt.Errorf("message id %q: bad entry id", id)
	}
	return group, n, entryID, nil
}

// validEntryID accepts a Redis stream id "<ms>-<seq>".
func validEntryID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}
