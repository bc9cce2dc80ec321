// Package session owns one WebSocket connection from the upgrade to the
// close, and the Manager that holds what all of a node's connections share.
// A Session reads and answers the client's commands (commands.go: connect,
// subscribe, publish, presence, history, refresh), keeps its channel
// subscriptions (subscription.go: a joining subscription holds publications
// back until its reply is out, and ends on a gap it cannot fill), and queues
// everything it sends in a bounded outbox (outbox.go) that one writer
// goroutine drains (writer.go); an overflow or a stalled write closes the
// connection with 4008. It also owns the connection's timers (ping, pong
// deadline, token expiry: timers.go) and read limits (readlimit.go,
// frameguard.go).
//
// The Manager counts the node's connections (Admit, Release, Count), serves
// each upgraded one (Serve) and watches for stalled writes. The package
// declares what it needs of its neighbours: Broker (publish, history,
// presence, node-level subscriptions) and Verifier (tokens; auth.DevVerifier
// in --dev); the hub feeds its subscriptions and the server hands it
// connections.
package session
