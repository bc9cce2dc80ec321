package streams

// Fields of the meta HASH (MetaKey).
const (
	// MetaPartitions is the number of partitions P, written once with HSETNX.
	MetaPartitions = "partitions"
)

// Fields of inbox entries (all values are strings).
const (
	FieldID          = "id"          // the public message id
	FieldTopic       = "topic"       // the topic
	FieldUser        = "user"        // the sender's user (the partition key)
	FieldClient      = "client"      // the sender's client id
	FieldNode        = "node"        // the gateway node the sender is on
	FieldData        = "data"        // compact JSON text
	FieldKey         = "key"         // the sender's idempotency key, may be empty
	FieldTimeMS      = "time_ms"     // enqueue time, Unix ms
	FieldTraceparent = "traceparent" // W3C traceparent of the producer, may be empty
)

// Fields of event entries, besides FieldTimeMS and the subject fields that
// apply (FieldUser, FieldClient, FieldChannel, FieldNode).
const (
	FieldType    = "type"    // connection.opened, user.online, ...
	FieldSeq     = "seq"     // per-subject sequence number
	FieldSubject = "subject" // user:<u> | channel:<ch> | client:<id> (the partition key)
	FieldChannel = "channel" // the channel of channel and presence events
	FieldCode    = "code"    // connection.closed: the close code, or "node_lost"
)

// Fields a dead letter adds to the original entry's fields.
const (
	FieldOrigID    = "orig_id"   // the entry id in its partition stream
	FieldPartition = "partition" // the partition number
	FieldAttempts  = "attempts"  // failed handler runs
	FieldError     = "error"     // the last error's text
	FieldDeadMS    = "dead_ms"   // when it died, Unix ms
)
