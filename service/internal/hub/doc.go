// Package hub owns this node's routing table: which local connection listens
// to which channel, and which connections belong to which user. It fans a
// publication out to local subscribers, encoding it once for all of them, and
// never blocks: subscribers take a Delivery and queue it without waiting. The
// hub does no I/O; the broker feeds it and sessions register with it.
package hub
