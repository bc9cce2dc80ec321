package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowClient is a raw TCP client that sends a request's headers at once and
// then its body one byte per tick, as a slowloris attacker does.
type slowClient struct {
	conn net.Conn
	done chan struct{} // closed when the trickle stops
}

// startSlowRequest sends head (request line and headers, announcing a
// bodyLen-byte body) and trickles the body one byte per tick in the
// background until the body is sent or the connection fails.
func startSlowRequest(t *testing.T, addr, head string, bodyLen int, tick time.Duration) *slowClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := fmt.Fprintf(conn, "%sContent-Length: %d\r\n\r\n", head, bodyLen); err != nil {
		t.Fatalf("write headers: %v", err)
	}
	c := &slowClient{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for range bodyLen {
			if _, err := conn.Write([]byte{' '}); err != nil {
				return
			}
			time.Sleep(tick)
		}
	}()
	return c
}

// outcome reads what the server sends until it closes the connection or
// within passes: the status of the response, if one came, and whether the
// server closed the connection (false: still open when within passed).
func (c *slowClient) outcome(within time.Duration) (status int, closed bool) {
	_ = c.conn.SetReadDeadline(time.Now().Add(within))
	br := bufio.NewReader(c.conn)
	if resp, err := http.ReadResponse(br, nil); err == nil {
		status = resp.StatusCode
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	_, err := io.Copy(io.Discard, br)
	var ne net.Error
	return status, !(errors.As(err, &ne) && ne.Timeout())
}

// TestSlowRequestBodies: a client that trickles a request body is cut off
// instead of holding a goroutine for as long as it likes. Each body would
// take 1,000 ticks to send; the server must close well before.
func TestSlowRequestBodies(t *testing.T) {
	t.Parallel()
	g := startNode(t, authArgs...)
	cases := []struct {
		name       string
		addr, head string
		tick       time.Duration
		within     time.Duration // far less than 1,000 ticks
		wantStatus int           // 0: any status, or none
	}{
		// Refused before its body is read, and the connection closed at once.
		{"API without a key", g.API, "POST /api/v1/publish HTTP/1.1\r\nHost: x\r\n",
			100 * time.Millisecond, 5 * time.Second, http.StatusUnauthorized},
		{"API with a wrong key", g.API, "POST /api/v1/broadcast HTTP/1.1\r\nHost: x\r\nAuthorization: apikey nope\r\n",
			100 * time.Millisecond, 5 * time.Second, http.StatusUnauthorized},
		// Authenticated, but slower than the API's read timeout (10 s).
		{"API with the key", g.API, "POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: apikey k\r\n",
			time.Second, 30 * time.Second, 0},
		// The probe answers, then the body it never reads is drained under
		// the admin port's read timeout (5 s), not forever.
		{"admin port", g.Admin, "GET /healthz HTTP/1.1\r\nHost: x\r\n",
			time.Second, 30 * time.Second, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const clients = 20
			var wg sync.WaitGroup
			errs := make(chan string, clients)
			for i := range clients {
				c := startSlowRequest(t, tc.addr, tc.head, 1000, tc.tick)
				wg.Go(func() {
					status, closed := c.outcome(tc.within)
					switch {
					case !closed:
						errs <- fmt.Sprintf("client %d: connection still open after %v (status %d)", i, tc.within, status)
					case tc.wantStatus != 0 && status != tc.wantStatus:
						errs <- fmt.Sprintf("client %d: status %d, want %d", i, status, tc.wantStatus)
					}
				})
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// TestOversizedHeaders: every port bounds a request's headers far below
// Go's 1 MB default and answers 431 beyond it; ordinary large headers (a
// long token, cookies) still pass.
func TestOversizedHeaders(t *testing.T) {
	t.Parallel()
	g := startNode(t, authArgs...)
	ports := []struct{ name, url string }{
		{"client", "http://" + g.Client + "/ws"},
		{"API", "http://" + g.API + "/api/v1/nodes"},
		{"admin", "http://" + g.Admin + "/healthz"},
	}
	for _, p := range ports {
		for _, tc := range []struct {
			name    string
			padding int
			want    func(int) bool
		}{
			{"8 KiB header passes", 8 << 10, func(s int) bool { return s != http.StatusRequestHeaderFieldsTooLarge }},
			{"64 KiB header gets 431", 64 << 10, func(s int) bool { return s == http.StatusRequestHeaderFieldsTooLarge }},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				req, err := http.NewRequest(http.MethodGet, p.url, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Padding", strings.Repeat("a", tc.padding))
				req.Header.Set("Authorization", "apikey k")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", p.url, err)
				}
				resp.Body.Close()
				if !tc.want(resp.StatusCode) {
					t.Fatalf("GET %s with a %d-byte header: status %d", p.url, tc.padding, resp.StatusCode)
				}
			})
		}
	}
}
