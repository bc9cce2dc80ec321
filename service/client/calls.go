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

// Presence lists the connections subscribed to channel, cluster-wide.
func (c *Client) Presence(ctx context.Context, channel string) ([]PresenceEntry, error) {
	var res presenceResult
	if err := c.do(ctx, command{Op: "presence", Channel: channel}, &res); err != nil {
		return nil, err
	}
	return res.Users, nil
}

// History reads channel's history: with since, the publications after that
// offset (at most limit of them, when limit > 0); without, the latest limit.
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
