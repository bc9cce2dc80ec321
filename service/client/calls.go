package client

import (
	"context"
	"encoding/json"
	"fmt"
)

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
	if err := c.do(ctx, command{Op: "presence", Channel: channel, Limit: limit}, &res); err != nil {
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
	cmd := command{Op: "history", Channel: channel, Limit: limit}
	if since != nil {
		s := *since
		cmd.Since = &s
	}
	var res HistoryResult
	if err := c.do(ctx, cmd, &res); err != nil {
		return HistoryResult{}, err
	}
	return res, nil
}

// do sends cmd on the current connection and decodes the result into
// result (when not nil). Errors name the op and channel.
func (c *Client) do(ctx context.Context, cmd command, result any) error {
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
		return fmt.Errorf("%s %s: %w", cmd.Op, cmd.Channel, err)
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
