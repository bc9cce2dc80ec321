package server

import "time"

// maxHeaderBytes bounds a request's header block on every port. Go's
// default (1 MB) let 300 connections that never finish their headers pin
// over 300 MB. A browser's upgrade request with cookies and a bearer token
// fits in a few KiB; net/http allows 4 KiB of slack on top. Larger headers
// get 431.
const maxHeaderBytes = 16 << 10

// portLimits are one port's HTTP timeouts. read bounds a whole request,
// body included: without it, a client that sends one body byte every few
// seconds holds a goroutine (and the body buffer) for as long as it likes.
type portLimits struct {
	readHeader, read, idle time.Duration
}

var (
	// clientPort serves only upgrades, which have no body. It has no read
	// timeout: it would stay set on the hijacked socket, whose deadlines
	// belong to the session from the upgrade on.
	clientPort = portLimits{readHeader: 10 * time.Second, idle: 2 * time.Minute}
	// apiPort: a body is at most 1 MiB (maxAPIBody) from a backend on the
	// cluster network; 10 s is 100 KiB/s, far below any such link.
	apiPort = portLimits{readHeader: 5 * time.Second, read: 10 * time.Second, idle: time.Minute}
	// adminPort: probes and scrapes, GETs without a body.
	adminPort = portLimits{readHeader: 5 * time.Second, read: 5 * time.Second, idle: time.Minute}
)
