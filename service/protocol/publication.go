package protocol

// Position is where a channel's stream stands: the offset of its latest
// publication (0 when it has none) and the epoch of its history.
type Position struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// Publication is one message published to a channel. Brokers create it (they
// assign Offset and Epoch) and hand it to every node's fan-out; it is never
// modified after that, so many goroutines may read it at once.
type Publication struct {
	Channel string
	Offset  uint64
	Epoch   string
	// Data is compact JSON (no newline), checked when the publish was accepted.
	Data []byte
	// User is the publisher's user id, empty for API publishes.
	User string
	// Time is when the publish was accepted, in Unix nanoseconds; it drives
	// the publish latency and delivery lag histograms, across nodes.
	Time int64
	// TraceParent is the W3C traceparent of the publish span, empty when
	// tracing is off; it travels with the publication through the broker.
	TraceParent string
}

// ClientInfo names one connection subscribed to a channel, for presence.
type ClientInfo struct {
	User   string `json:"user"`
	Client string `json:"client"`
	Node   string `json:"node"`
}

// PublishOptions are the optional parts of a publish.
type PublishOptions struct {
	// IdempotencyKey, when set, makes a repeat of the same publish on the same
	// channel within IdempotencyWindow return the first result instead.
	IdempotencyKey string
	// User is the publisher's user id, empty for API publishes.
	User string
	// Time is when the publish was accepted (Unix nanoseconds).
	Time int64
	// TraceParent is carried into the Publication.
	TraceParent string
}

// HistoryQuery selects publications from a channel's history.
type HistoryQuery struct {
	// Since, when HasSince is set, returns publications with a greater offset.
	Since    uint64
	HasSince bool
	// Limit caps the number returned; 0 means no cap. Without Since the latest
	// Limit publications are returned, with Since the first Limit after it.
	Limit int
	// MaxBytes, when positive, is a budget on the publications' size
	// (PublicationSize): the broker stops reading once the next one would
	// exceed it and sets History.Truncated. The first one selected is always
	// returned, so a reader paging with Since always progresses. Without
	// Since and with a budget, the page starts at the oldest of the latest
	// Limit publications, so that paging on with Since reaches the head.
	MaxBytes int
}

// PublicationSize is the size a publication counts against a byte budget:
// its encoded size within a result, give or take a few bytes of keys.
func PublicationSize(p *Publication) int {
	return len(p.Data) + len(p.Channel) + len(p.Epoch) + len(p.User) + 64
}

// History is a history answer: the stream position and publications in
// ascending offset order.
type History struct {
	Position
	Publications []*Publication
	// Truncated is set when HistoryQuery.MaxBytes stopped the read before
	// the Limit or the end of the stream.
	Truncated bool
}

// NodeInfo describes one live gateway node, for GET /api/v1/nodes.
type NodeInfo struct {
	Node          string `json:"node"`
	Zone          string `json:"zone"`
	Connections   int    `json:"connections"`
	Subscriptions int    `json:"subscriptions"`
	UptimeSeconds int64  `json:"uptime_seconds"`
}
