package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// pollInterval is how often a bounded wait checks again.
const pollInterval = 50 * time.Millisecond

// poll calls check until it returns nil, stop is closed, or timeout passes;
// then it returns nil or check's last error. A nil stop never fires.
func poll(timeout time.Duration, stop <-chan struct{}, check func() error) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select { // stop first: a ready tick must not hide an exit
		case <-stop:
			return fmt.Errorf("process exited: %w", err)
		default:
		}
		select {
		case <-stop:
			return fmt.Errorf("process exited: %w", err)
		case <-deadline.C:
			return fmt.Errorf("not within %v: %w", timeout, err)
		case <-tick.C:
		}
	}
}

// ping sends one PING to addr on a fresh connection and wants +PONG back.
// A server still loading its AOF answers -LOADING, so +PONG means ready.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING %s: %q", addr, line)
	}
	return nil
}

// freePorts returns n distinct ports that were free a moment ago. Another
// process may take one before the server binds it; Start retries once.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close() // held until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// infoField returns the value of key in the text of an INFO reply, or "".
func infoField(info, key string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}

// hasInfo checks that key in the INFO section of c's server has the value want.
func hasInfo(ctx context.Context, c *redis.Client, section, key, want string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		return fmt.Errorf("INFO %s: %w", section, err)
	}
	if got := infoField(info, key); got != want {
		return fmt.Errorf("INFO %s: %s is %q, want %q", section, key, got, want)
	}
	return nil
}
