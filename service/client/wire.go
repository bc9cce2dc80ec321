package client

import "encoding/json"

// subprotocol is the only protocol version this client speaks.
const subprotocol = "wsgateway.v1"

// command is every client-to-server command; each op uses some of the fields
// (CONTRACT.md §2). Offset and Since are pointers because 0 is a meaningful
// value that must still be sent.
type command struct {
	ID             uint64          `json:"id"`
	Op             string          `json:"op"`
	Token          string          `json:"token,omitempty"`
	Channel        string          `json:"channel,omitempty"`
	Recover        bool            `json:"recover,omitempty"`
	Offset         *uint64         `json:"offset,omitempty"`
	Epoch          string          `json:"epoch,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	Since          *uint64         `json:"since,omitempty"`
	Limit          int             `json:"limit,omitempty"`
}

// inbound is any server-to-client line: a reply (ID set) or a push (Push
// set). It is the slow, general decoding; decodePub is the fast one for
// publications.
type inbound struct {
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`

	Push    string          `json:"push"`
	Channel string          `json:"channel"`
	Offset  uint64          `json:"offset"`
	Epoch   string          `json:"epoch"`
	Data    json.RawMessage `json:"data"`
	User    string          `json:"user"`
	Reason  string          `json:"reason"`
}

// reply is the answer to one command: exactly one of Result and Error is set.
type reply struct {
	Result json.RawMessage
	Error  *Error
}

// Push kinds.
const (
	pushPub   = "pub"
	pushUnsub = "unsub"
)

// subscribeResult is the result of subscribe.
type subscribeResult struct {
	Offset       uint64        `json:"offset"`
	Epoch        string        `json:"epoch"`
	Recovered    bool          `json:"recovered"`
	Publications []Publication `json:"publications"`
}

// PresenceResult is a presence answer: at most a page of the connections
// present (the server's cap is 1000, or its reply byte budget), and how many
// there are in all.
type PresenceResult struct {
	Users []PresenceEntry `json:"users"`
	// Count is the number of connections present, listed or not.
	Count int `json:"count"`
	// Truncated is set when Users lists only some of them.
	Truncated bool `json:"truncated"`
}

// Position is where a channel's stream stands: the offset of a publication
// and the epoch of the channel's history it belongs to.
type Position struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// PresenceEntry is one connection subscribed to a channel.
type PresenceEntry struct {
	User   string `json:"user"`
	Client string `json:"client"`
	Node   string `json:"node"`
}

// HistoryResult is a history answer: the channel's current position and the
// selected publications in ascending offset order.
type HistoryResult struct {
	Offset       uint64        `json:"offset"`
	Epoch        string        `json:"epoch"`
	Publications []Publication `json:"publications"`
	// Truncated is set when the server's reply byte budget ended the page
	// early: read on with since set to the last publication's offset.
	Truncated bool `json:"truncated"`
}
