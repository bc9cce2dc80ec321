// Package broker owns the Broker implementations that carry publications
// between gateway nodes: Memory (memory*.go) for a single node, and Redis
// (redis_*.go) for a cluster on Redis standalone, Sentinel or Cluster. Both
// give each channel an offset that starts at 1 and grows by exactly 1 per
// publication, an epoch that changes whenever the channel's history is
// lost, a bounded history for recovery, idempotent publishes, presence, and
// delivery of every publication to the node's Handler in offset order. Both
// pass the same test suite (suite_*_test.go). The Redis broker adds
// node-level pub/sub (redis_pubsub.go: sharded in Cluster mode, following a
// channel when its slot moves to another master, redis_reshard.go), the
// node registry and presence in Redis (redis_presence.go), and a circuit
// breaker (redis_breaker.go) that makes every call fail fast with
// protocol.ErrUnavailable while Redis is down; its metrics are registered
// on every node, with or without Redis. What both share is named plainly:
// handler.go, metrics.go, bounds.go.
//
// The package imports nothing of ours but protocol: the gateway connects a
// broker to the hub (through Handler) and to the sessions (through
// session.Broker).
package broker
