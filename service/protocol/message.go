package protocol

import "encoding/json"

// Push kinds, in a push's "push" field.
const (
	PushPub   = "pub"
	PushUnsub = "unsub"
)

// ReasonInsufficientState is the reason of an unsub push for a subscription
// the server cannot continue without a gap: the client subscribes again
// with recovery. A client treats an unknown reason the same way.
const ReasonInsufficientState = "insufficient_state"

// Message is any line the server sends, as a client decodes it: a reply
// (ID set, with Result or Error) or a push (Push set, with the fields of its
// kind). The server itself never builds one: it encodes with the Append*
// functions, which testdata/vectors.json pins byte for byte.
type Message struct {
	ID     uint64          `json:"id,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`

	Push    string          `json:"push,omitempty"`
	Channel string          `json:"channel,omitempty"`
	Offset  uint64          `json:"offset,omitempty"`
	Epoch   string          `json:"epoch,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	User    string          `json:"user,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Client  string          `json:"client,omitempty"` // join, leave
}

// MarshalJSON encodes c as a client sends it: the fields its op does not use
// are left out, except offset, which is written whenever recover is set,
// 0 included (recovering from before the first publication).
func (c Command) MarshalJSON() ([]byte, error) {
	type plain Command // without this method
	w := struct {
		plain
		Offset *uint64 `json:"offset,omitempty"` // shadows plain.Offset
	}{plain: plain(c)}
	if c.Recover || c.Offset != 0 {
		w.Offset = &c.Offset
	}
	return json.Marshal(w)
}

// publicationJSON is a publication's wire form, as AppendPublication writes it.
type publicationJSON struct {
	Channel string          `json:"channel"`
	Offset  uint64          `json:"offset"`
	Epoch   string          `json:"epoch"`
	Data    json.RawMessage `json:"data"`
	User    string          `json:"user,omitempty"`
}

// UnmarshalJSON reads a publication in its wire form (an element of a
// result's publications), so that clients and tests can decode replies into
// SubscribeResult and HistoryResult. Time and TraceParent do not travel to
// clients and stay zero.
func (p *Publication) UnmarshalJSON(b []byte) error {
	var w publicationJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Publication{Channel: w.Channel, Offset: w.Offset, Epoch: w.Epoch, Data: w.Data, User: w.User}
	return nil
}
