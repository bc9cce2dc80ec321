package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// reasonClosed is the DisconnectEvent reason when this side closed.
const reasonClosed = "client closed"

// outcome is how one connection attempt ended.
type outcome struct {
	code   int
	reason string
	err    error
	lived  time.Duration // from the connect reply to the end; 0 without one
}

// event turns the outcome into the DisconnectEvent the user sees; byUs says
// the client itself was closing.
func (a outcome) event(byUs bool) DisconnectEvent {
	if byUs {
		return DisconnectEvent{Code: CloseNormal, Reason: reasonClosed}
	}
	return DisconnectEvent{Code: a.code, Reason: a.reason, Err: a.err, Reconnect: !terminal(a.code)}
}

// connectOnce runs one connection attempt to its end: token, dial, connect,
// resubscribe, then serve calls until the connection ends or ctx is done.
func (c *Client) connectOnce(ctx context.Context) outcome {
	token, err := c.token(ctx)
	if err != nil {
		return outcome{code: CloseAbnormal, err: err}
	}
	ws, resp, err := c.dialer.DialContext(ctx, c.opts.URL, c.opts.Header)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("dial %s: %s: %w", c.opts.URL, resp.Status, err)
		}
		return outcome{code: CloseAbnormal, err: err}
	}
	cn := newConn(c, ws)
	go cn.readLoop()
	info, err := c.handshake(ctx, cn, token)
	if err != nil {
		if ctx.Err() != nil {
			cn.closeNormal()
		} else {
			cn.shutdown(closeWait) // let the server's close (4001...) arrive
		}
		return cn.outcome(err)
	}
	up := time.Now()
	c.serve(ctx, cn, c.attach(cn, info))
	c.detach(cn)
	cn.shutdown(0)
	a := cn.outcome(nil)
	a.lived = time.Since(up)
	return a
}

func (c *Client) token(ctx context.Context) (string, error) {
	if c.opts.Token == nil {
		return "", nil
	}
	t, err := c.opts.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// handshake sends connect and waits for its reply.
func (c *Client) handshake(ctx context.Context, cn *conn, token string) (*ConnectInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	var info ConnectInfo
	hook := func(r *reply) error {
		if r.Error != nil {
			return r.Error
		}
		if err := json.Unmarshal(r.Result, &info); err != nil {
			return fmt.Errorf("decode result: %w", err)
		}
		cn.setIdle(info.PingInterval)
		return nil
	}
	if _, err := cn.call(ctx, protocol.Command{Op: protocol.OpConnect, Token: token}, newCall(hook)); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	c.log.Debug("connected", "conn", info.Client, "user", info.User, "node", info.Node)
	return &info, nil
}

// The resubscription after a reconnect is paced to stay under the server's
// default --command-rate (100 a second, burst 200), leaving room for connect
// and the application's own calls: every command counts, and a connection
// refused for a second closes with 4029, so a client with hundreds of
// channels would otherwise never get back in.
const (
	resubscribeBurst = 100 // sent at once
	resubscribeChunk = 40  // then this many
	resubscribeEvery = 500 * time.Millisecond
)

// attach makes cn the connection calls use, queues the connected event and
// sends the first resubscribeBurst resubscriptions; it returns the channels
// left for serve to pace. OnConnected may make calls, and no event of cn
// precedes it (nothing arrives before the resubscription but replies to
// calls). It takes cn's writer lock before releasing c.mu, so the
// resubscription goes out before any command a caller sends on cn, and a
// concurrent Subscribe is either in it or sent by Subscribe itself.
func (c *Client) attach(cn *conn, info *ConnectInfo) (rest []string) {
	c.mu.Lock()
	c.conn = cn
	var chans []string
	for _, ch := range slices.Sorted(maps.Keys(c.subs)) {
		if c.subs[ch].active {
			chans = append(chans, ch)
		}
	}
	n := min(len(chans), resubscribeBurst)
	cmds, calls := c.subscribeCalls(cn, chans[:n])
	cn.wmu.Lock()
	c.mu.Unlock()
	defer cn.wmu.Unlock()
	c.events.push(event{kind: evConnected, info: info})
	if len(cmds) > 0 {
		if err := cn.sendLocked(cmds, calls); err != nil {
			c.log.Info("resubscribe", "err", err)
		}
	}
	return chans[n:]
}

// serve waits for cn to end or ctx to be done, sending the rest of the
// resubscription meanwhile.
func (c *Client) serve(ctx context.Context, cn *conn, rest []string) {
	var tick <-chan time.Time
	if len(rest) > 0 {
		t := time.NewTicker(resubscribeEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-cn.done:
			return
		case <-ctx.Done():
			cn.closeNormal()
			return
		case <-tick:
			n := min(len(rest), resubscribeChunk)
			c.mu.Lock()
			cmds, calls := c.subscribeCalls(cn, rest[:n])
			c.mu.Unlock()
			if len(cmds) > 0 {
				if err := cn.send(cmds, calls); err != nil {
					c.log.Info("resubscribe", "err", err)
				}
			}
			if rest = rest[n:]; len(rest) == 0 {
				tick = nil
			}
		}
	}
}

// subscribeCalls builds the resubscriptions of the channels still active,
// while cn is the connection. c.mu must be held.
func (c *Client) subscribeCalls(cn *conn, chans []string) ([]protocol.Command, []*call) {
	var cmds []protocol.Command
	var calls []*call
	for _, ch := range chans {
		if s := c.subs[ch]; s != nil && s.active && c.conn == cn {
			cmd, cl := c.subscribeCall(cn, ch, s, true)
			cmds, calls = append(cmds, cmd), append(calls, cl)
		}
	}
	return cmds, calls
}

// detach stops calls from using cn.
func (c *Client) detach(cn *conn) {
	c.mu.Lock()
	if c.conn == cn {
		c.conn = nil
	}
	c.mu.Unlock()
}

// outcome reports how cn ended; callErr is the handshake's failure, if any.
// A lost connection is already told by the code, so it is not repeated.
func (cn *conn) outcome(callErr error) outcome {
	<-cn.done
	code, reason := closeStatus(cn.readErr)
	a := outcome{code: code, reason: reason}
	if code == CloseAbnormal {
		a.err = cn.readErr
	}
	if callErr != nil && !errors.Is(callErr, ErrNotConnected) {
		a.err = callErr
	}
	return a
}
