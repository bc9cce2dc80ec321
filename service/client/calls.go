package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Position is where a channel's stream stands: the offset of a publication
// and the epoch of the channel's history it belongs to.
type Position = protocol.Position

// PresenceResult is a presence answer: at most a page of the connections
// present (the server's cap is 1000, or its reply byte budget), how many
// there are in all (Count), and whether the page lists only some of them
// (Truncated).
type PresenceResult = protocol.PresenceResult

// PresenceEntry is one connection subscribed to a channel.
type PresenceEntry = protocol.ClientInfo

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

func marshalData(data any) (json.RawMessage, error) {
	if raw, ok := data.(json.RawMessage); ok {
		if len(raw) == 0 {
			return json.RawMessage("null"), nil
		}
		return raw, nil
	}
	return json.Marshal(data)
}

// Presence lists the connections subscribed to channel, cluster-wide: at
// most the server's cap of them; PresenceCount tells how many there are.
func (c *Client) Presence(ctx context.Context, channel string) ([]PresenceEntry, error) {
	res, err := c.PresenceCount(ctx, channel, 0)
	return res.Users, err
}

// PresenceCount is Presence with the count of all connections present and
// a limit on the list (0: the server's cap).
func (c *Client) PresenceCount(ctx context.Context, channel string, limit int) (PresenceResult, error) {
	var res PresenceResult
	if err := c.do(ctx, protocol.Command{Op: protocol.OpPresence, Channel: channel, Limit: limit}, &res); err != nil {
		return PresenceResult{}, err
	}
	return res, nil
}

// History reads channel's history: with since, the publications after that
// offset (at most limit of them); without, the latest limit. A limit of 0
// asks for the server's default page (100); the server caps it at 1000. A
// page may end early at the server's byte budget, and then says Truncated:
// call again with since set to the last offset received.
func (c *Client) History(ctx context.Context, channel string, since *uint64, limit int) (HistoryResult, error) {
	cmd := protocol.Command{Op: protocol.OpHistory, Channel: channel, Limit: limit}
	if since != nil {
		s := *since
		cmd.Since = &s
	}
	var res protocol.HistoryResult
	if err := c.do(ctx, cmd, &res); err != nil {
		return HistoryResult{}, err
	}
	return HistoryResult{Offset: res.Offset, Epoch: res.Epoch, Publications: publications(res.Publications), Truncated: res.Truncated}, nil
}

// RPC asks the backend's rpc hook for method ("billing:charge": the part
// before the first ':' picks the backend) with data (any value
// encoding/json accepts, or a json.RawMessage; nil sends none), and
// returns the data it answered ("null" when it gave none). A method no
// backend serves is an *Error with CodeNotFound. An rpc is never resent
// after a lost connection: it returns ErrNotConnected or the loss.
func (c *Client) RPC(ctx context.Context, method string, data any) (json.RawMessage, error) {
	cmd := protocol.Command{Op: protocol.OpRPC, Method: method}
	if data != nil {
		raw, err := marshalData(data)
		if err != nil {
			return nil, fmt.Errorf("rpc %s: encode data: %w", method, err)
		}
		cmd.Data = raw
	}
	var res protocol.RPCResult
	if err := c.do(ctx, cmd, &res); err != nil {
		return nil, err
	}
	return res.Data, nil
}

// do sends cmd on the current connection and decodes the result into
// result (when not nil). Errors name the op and channel.
func (c *Client) do(ctx context.Context, cmd protocol.Command, result any) error {
	cn, err := c.current()
	if err == nil {
		var raw json.RawMessage
		raw, err = cn.call(ctx, cmd, nil)
		if err == nil && result != nil {
			if derr := json.Unmarshal(raw, result); derr != nil {
				err = fmt.Errorf("decode result: %w", derr)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd.Op, cmd.Channel+cmd.Method, err)
	}
	return nil
}

// current returns the connection calls use.
func (c *Client) current() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped:
		return nil, ErrClosed
	case c.conn == nil:
		return nil, ErrNotConnected
	}
	return c.conn, nil
}
