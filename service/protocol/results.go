package protocol

import "encoding/json"

// ConnectResult answers connect.
type ConnectResult struct {
	Client       string `json:"client"`
	User         string `json:"user"`
	Node         string `json:"node"`
	Zone         string `json:"zone"`
	PingInterval int    `json:"ping_interval"`
	// Data is the connect hook's data for the client; absent without one,
	// so a v1 reply keeps its bytes.
	Data json.RawMessage `json:"data,omitempty"`
}

// SubscribeResult answers subscribe.
type SubscribeResult struct {
	Offset       uint64       `json:"offset"`
	Epoch        string       `json:"epoch"`
	Recovered    bool         `json:"recovered"`
	Publications Publications `json:"publications"`
	// Data is the subscribe hook's data for the client; absent without one.
	Data json.RawMessage `json:"data,omitempty"`
}

// RPCResult answers rpc: the backend's data, null when it gave none.
type RPCResult struct {
	Data json.RawMessage `json:"data"`
}

// HistoryResult answers history, on the socket and on the API.
type HistoryResult struct {
	Offset       uint64       `json:"offset"`
	Epoch        string       `json:"epoch"`
	Publications Publications `json:"publications"`
	// Truncated: the reply's byte budget ended the page before the limit
	// (or the head); the client reads on with since = the last offset.
	Truncated bool `json:"truncated,omitempty"`
}

// PresenceResult answers presence, on the socket and on the API.
type PresenceResult struct {
	Users []ClientInfo `json:"users"`
	// Count is the number of connections present, listed or not.
	Count int `json:"count"`
	// Truncated: Users lists only part of them (limit or byte budget).
	Truncated bool `json:"truncated,omitempty"`
}

// Publications marshals as a JSON array of publication objects (never null).
type Publications []*Publication

// MarshalJSON encodes the list with the same field layout as a push.
func (ps Publications) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(ps)*96)
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendPublication(b, p)
	}
	return append(b, ']'), nil
}

var _ json.Marshaler = Publications(nil)
