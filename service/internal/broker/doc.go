// Package broker owns the Broker implementations that carry publications
// between gateway nodes: Memory for a single node and, later, Redis for a
// cluster. Both give each channel an offset that starts at 1 and grows by
// exactly 1 per publication, an epoch that changes whenever the channel's
// history is lost, a bounded history for recovery, idempotent publishes,
// presence, and delivery of every publication to the node's Handler in offset
// order. Both pass the same test suite. The Redis broker adds node-level
// pub/sub (sharded in Cluster mode, following a channel when its slot moves
// to another master) and a circuit breaker that makes every call fail fast
// with protocol.ErrUnavailable while Redis is down; its metrics are
// registered on every node, with or without Redis.
//
// The package imports nothing of ours but protocol: main connects a broker to
// the hub (through Handler) and to the sessions (through session.Broker).
package broker
